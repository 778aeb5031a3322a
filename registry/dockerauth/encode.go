package dockerauth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/molecule-ai/registrykit/authn"
)

// encodeRegistryAuth encodes c for the Docker Engine's X-Registry-Auth header:
// base64url of the Engine's AuthConfig JSON, as the Engine's own
// EncodeAuthConfig writes it, with serveraddress set to serverAddress (the
// registry host the image is pulled from). The JSON has the fields of
// docker/cli's AuthConfig, whose names are the Engine API's (api/types/registry in
// moby/moby; the examples and the consumer-compatibility module decode it
// with the Engine's own DecodeAuthConfig), so the library needs no Docker
// Engine SDK.
//
// An anonymous credential encodes as the empty string: the Engine's
// convention for an anonymous pull is no header at all.
func encodeRegistryAuth(c authn.Credential, serverAddress string) (string, error) {
	if serverAddress == "" {
		return "", fmt.Errorf("registry auth: empty server address; pass the registry host, e.g. Backend.Host()")
	}
	if c.IsAnonymous() {
		return "", nil
	}
	buf, err := json.Marshal(authConfig{
		Username:      c.Username,
		Password:      c.Password,
		ServerAddress: serverAddress,
		IdentityToken: c.IdentityToken,
		RegistryToken: c.RegistryToken,
	})
	if err != nil {
		return "", fmt.Errorf("registry auth: %w", err)
	}
	return base64.URLEncoding.EncodeToString(buf), nil
}

// encodeDockerConfig renders a Docker config document, {"auths":{host:{…}}},
// for the given credentials by registry host: the content of a Kubernetes
// kubernetes.io/dockerconfigjson Secret's ".dockerconfigjson" key, or of
// ~/.docker/config.json. Anonymous credentials are left out. The output is
// deterministic (hosts sorted).
func encodeDockerConfig(creds map[string]authn.Credential) ([]byte, error) {
	auths := make(map[string]authConfig, len(creds))
	for host, c := range creds {
		if host == "" {
			return nil, fmt.Errorf("docker config: empty registry host")
		}
		if c.IsAnonymous() {
			continue
		}
		if c.Username != "" && c.Password == "" && c.IdentityToken != "" {
			// A refresh token for a named user (ACR's null GUID) goes in as
			// the password: the kubelet reads no identitytoken
			// (pkg/credentialprovider/config.go in kubernetes/kubernetes,
			// DockerConfigEntry), and the registry takes the pair as a
			// docker login would (Azure/acr docs/AAD-OAuth.md).
			c.Password, c.IdentityToken = c.IdentityToken, ""
		}
		e := authConfig{
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
		Auths map[string]authConfig `json:"auths"`
	}{auths})
}

// authConfig is docker/cli's AuthConfig (cli/config/types/authconfig.go in
// docker/cli), field for field and in its order, which is also the Engine
// API's (api/types/registry/authconfig.go in moby/moby): the JSON both
// encoders write. It is copied rather than imported so that package authn
// compiles none of docker/cli in.
type authConfig struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Auth          string `json:"auth,omitempty"`
	Email         string `json:"email,omitempty"`
	ServerAddress string `json:"serveraddress,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}
