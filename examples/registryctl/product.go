package main

import (
	"strings"

	"github.com/molecule-ai/registrykit/registry"
)

// product names the registry software behind a /v2/ challenge, as far as
// the challenge tells: "gitea" (realm at /v2/token, service
// container_registry), "gitlab" (realm at /jwt/auth), "harbor" (realm at
// /service/token, service harbor-registry), "quay" (realm at /v2/auth),
// "docker hub" (realm https://auth.docker.io/token), "ghcr" (realm
// https://ghcr.io/token), or "" when it does not tell.
func product(c *registry.Challenge) string {
	if !c.IsBearer() {
		return ""
	}
	realm := strings.TrimSuffix(c.Params["realm"], "/")
	service := c.Params["service"]
	switch {
	case strings.HasSuffix(realm, "/v2/token") && service == "container_registry":
		return "gitea"
	case strings.HasSuffix(realm, "/jwt/auth"):
		return "gitlab"
	case strings.HasSuffix(realm, "/service/token") && service == "harbor-registry":
		return "harbor"
	case strings.HasSuffix(realm, "/v2/auth"):
		return "quay"
	case realm == "https://auth.docker.io/token":
		return "docker hub"
	case realm == "https://ghcr.io/token":
		return "ghcr"
	}
	return ""
}
