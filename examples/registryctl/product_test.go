package main

import (
	"testing"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
)

func TestProduct(t *testing.T) {
	bearer := func(realm, service string) *registry.Challenge {
		return &registry.Challenge{Scheme: "Bearer", Params: map[string]string{"realm": realm, "service": service}}
	}
	cases := []struct {
		c    *registry.Challenge
		want string
	}{
		{bearer("https://git.example.com/v2/token", "container_registry"), "gitea"},
		{bearer("https://gitlab.com/jwt/auth", "container_registry"), "gitlab"},
		{bearer("https://harbor.example.com/service/token", "harbor-registry"), "harbor"},
		{bearer("https://quay.io/v2/auth", "quay.io"), "quay"},
		{bearer("https://auth.docker.io/token", "registry.docker.io"), "docker hub"},
		{bearer("https://ghcr.io/token", "ghcr.io"), "ghcr"},
		{bearer("https://reg.example/auth/token", "registry"), ""},
		{&registry.Challenge{Scheme: "Basic"}, ""},
		{nil, ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, product(tc.c))
	}
}
