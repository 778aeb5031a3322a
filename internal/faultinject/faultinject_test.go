package faultinject_test

import (
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/molecule-ai/registrykit/internal/faultinject"

	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Tokens and Pings matchers see the requests the server counts as token
// requests and pings, in every mode with a token service: the token path is
// taken from each mode's own challenge.
func TestMatchersSeeWhatTheServerCounts(t *testing.T) {
	realmOf := regexp.MustCompile(`Bearer realm="([^"]+)"`)
	for name, mode := range map[string]registrytest.Mode{"ghcr": registrytest.GHCR, "gitea": registrytest.Gitea,
		"distribution": registrytest.Distribution, "ecr-public": registrytest.ECRPublic, "gitlab": registrytest.GitLab,
		"harbor": registrytest.Harbor, "quay": registrytest.Quay} {
		t.Run(name, func(t *testing.T) {
			var tokens, pings atomic.Int64
			observe := func(n *atomic.Int64) faultinject.Fault {
				return func(http.ResponseWriter, *http.Request) bool { n.Add(1); return false }
			}
			faults := new(faultinject.Injector).Add(faultinject.Tokens, -1, observe(&tokens)).Add(faultinject.Pings, -1, observe(&pings))
			srv := registrytest.NewServer(registrytest.Config{Mode: mode, Users: map[string]string{"u": "pw"}, AllowAnonymous: true, Intercept: faults.Intercept})
			defer srv.Close()

			resp, err := srv.Client().Get(srv.URL() + "/v2/")
			require.NoError(t, err)
			resp.Body.Close()
			challenges := strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
			m := realmOf.FindStringSubmatch(challenges)
			require.NotNil(t, m, "a Bearer challenge: %q", challenges)
			resp, err = srv.Client().Get(m[1])
			require.NoError(t, err)
			resp.Body.Close()

			c := srv.Counts()
			assert.Equal(t, int64(1), c.Token, "the realm is the mode's token endpoint")
			assert.Equal(t, c.Token, tokens.Load(), "Tokens saw every token request")
			assert.Equal(t, c.Ping, pings.Load(), "Pings saw every ping")
		})
	}
}
