package acr

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Each cloud's registries get that cloud's ACR audience; a configured scope
// wins.
func TestScopeFor(t *testing.T) {
	cases := []struct{ configured, host, want string }{
		{"", "contoso.azurecr.io", "https://containerregistry.azure.net/.default"},
		{"", "contoso.azurecr.cn", "https://containerregistry.azure.cn/.default"},
		{"", "contoso.azurecr.us:443", "https://containerregistry.azure.us/.default"},
		{"", "registry.internal:5000", "https://containerregistry.azure.net/.default"},
		{"https://management.azure.com/.default", "contoso.azurecr.cn", "https://management.azure.com/.default"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, scopeFor(tc.configured, tc.host), tc.host)
	}
}
