package authn

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/registry"
)

// RegistryAuthHeader is the Docker Engine API header that carries pull
// credentials.
const RegistryAuthHeader = registry.AuthHeader

// RegistryAuth encodes c for the Docker Engine's X-Registry-Auth header
// (base64url JSON of the Engine's AuthConfig, with moby's own encoder) with serveraddress set to
// serverAddress, the registry host the image is pulled from. An anonymous
// credential encodes only the server address.
func RegistryAuth(c Credential, serverAddress string) (string, error) {
	if serverAddress == "" {
		return "", fmt.Errorf("registry auth: empty server address; pass the registry host, e.g. Backend.Host()")
	}
	return authconfig.Encode(registry.AuthConfig{
		Username:      c.Username,
		Password:      c.Password,
		ServerAddress: serverAddress,
		IdentityToken: c.IdentityToken,
		RegistryToken: c.RegistryToken,
	})
}

// dockerConfigEntry is one entry of a Docker config's "auths".
type dockerConfigEntry struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// DockerConfigJSON renders a Docker config document, {"auths":{host:{…}}},
// for the given credentials by registry host: the content of a Kubernetes
// kubernetes.io/dockerconfigjson Secret's ".dockerconfigjson" key, or of
// ~/.docker/config.json. Anonymous credentials are left out. The output is
// deterministic (hosts sorted).
func DockerConfigJSON(creds map[string]Credential) ([]byte, error) {
	auths := make(map[string]dockerConfigEntry, len(creds))
	for host, c := range creds {
		if host == "" {
			return nil, fmt.Errorf("docker config: empty registry host")
		}
		if c.IsAnonymous() {
			continue
		}
		e := dockerConfigEntry{
			Username:      c.Username,
			Password:      c.Password,
			IdentityToken: c.IdentityToken,
			RegistryToken: c.RegistryToken,
		}
		if c.Username != "" || c.Password != "" {
			e.Auth = base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))
		}
		auths[host] = e
	}
	return json.Marshal(struct {
		Auths map[string]dockerConfigEntry `json:"auths"`
	}{auths})
}
