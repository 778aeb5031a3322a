// Package dockerauth hands a backend's pull credential to the programs that
// pull images: the Docker Engine (X-Registry-Auth), Kubernetes
// (kubernetes.io/dockerconfigjson Secrets) and go-containerregistry users
// such as crane and ko (a go-containerregistry authn.Keychain).
//
// The credential is the one the registry takes from Docker clients: the PAT
// for GHCR, "AWS" and the decoded password for ECR, the token for Gitea, and
// nothing for anonymous access. The server address is always the backend's
// own host, never a hard-coded one.
package dockerauth

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/registry"
)

// RegistryAuth returns the X-Registry-Auth header value for pulling image
// (a reference such as "ghcr.io/molecule-ai/workspace-template-langgraph:latest"
// or "...@sha256:...") through the Docker Engine with b's credential, with
// serveraddress set to b.Host(). It returns "" (send no header: an
// anonymous pull) when the credential is anonymous, and when image lives on
// another registry than b's, so that b's credential never goes with a pull
// from elsewhere. Hosts are compared as Docker reads them: an image without
// a host is on Docker Hub, Docker Hub's names are one registry, and case
// and the default port 443 do not matter. A malformed image is a
// *registry.ConfigError.
func RegistryAuth(ctx context.Context, b registry.Backend, image string) (string, error) {
	host, err := imageHost(image)
	if err != nil {
		return "", err
	}
	if !sameRegistry(host, b.Host()) {
		return "", nil
	}
	c, err := b.Credential(ctx)
	if err != nil {
		return "", err
	}
	return encodeRegistryAuth(c, b.Host())
}

// DockerConfigJSON returns a Docker config document with the credentials of
// the given backends, keyed by host: the ".dockerconfigjson" of a pull secret.
func DockerConfigJSON(ctx context.Context, bs ...registry.Backend) ([]byte, error) {
	creds := make(map[string]authn.Credential, len(bs))
	for _, b := range bs {
		c, err := b.Credential(ctx)
		if err != nil {
			return nil, err
		}
		creds[b.Host()] = c
	}
	return encodeDockerConfig(creds)
}

// dnsSubdomain is Kubernetes' rule for object names.
var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// KubernetesSecret returns the JSON manifest of a kubernetes.io/dockerconfigjson
// Secret named name in namespace holding the backends' credentials, ready
// for "kubectl apply -f -". Refreshing ECR pull secrets every few hours is
// one call of this.
func KubernetesSecret(ctx context.Context, name, namespace string, bs ...registry.Backend) ([]byte, error) {
	for what, v := range map[string]string{"name": name, "namespace": namespace} {
		if len(v) > 253 || !dnsSubdomain.MatchString(v) {
			return nil, &registry.ConfigError{Var: "Secret " + what, Value: v, Reason: "is not a valid Kubernetes name", Fix: "use lowercase letters, digits, '-' and '.'"}
		}
	}
	doc, err := DockerConfigJSON(ctx, bs...)
	if err != nil {
		return nil, err
	}
	secret := map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"type":       "kubernetes.io/dockerconfigjson",
		"metadata":   map[string]any{"name": name, "namespace": namespace, "labels": map[string]string{"app.kubernetes.io/managed-by": "registrykit"}},
		// stringData spares the reader a base64 step; the API server stores
		// it as data.
		"stringData": map[string]string{".dockerconfigjson": string(doc)},
	}
	out, err := json.MarshalIndent(secret, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("kubernetes secret: %w", err)
	}
	return out, nil
}
