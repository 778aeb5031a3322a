package dockerconfig

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/molecule-ai/registrykit/authn"
)

// From is the source backed by Docker's client configuration,
// found through the variables lookup yields — never through the process
// environment unless lookup is os.LookupEnv:
//
//   - $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json, with its
//     "auths", "credHelpers" and "credsStore" entries (docker/cli's own
//     loader, so credential helpers such as docker-credential-ecr-login run
//     as Docker runs them);
//   - when neither exists, Podman's $REGISTRY_AUTH_FILE, else
//     $XDG_RUNTIME_DIR/containers/auth.json.
//
// This is the Docker CLI's search order (go-containerregistry's
// DefaultKeychain differs: it tries $HOME's file first), with the
// environment made explicit. A host the configuration does not know,
// or no configuration at all, yields authn.ErrNoCredential. A credential helper
// runs with the process environment, as Docker runs it.
func From(lookup func(string) (string, bool)) authn.Source {
	return FromKeychain(dockerConfigKeychain{lookup: lookup})
}

// FromKeychain adapts a go-containerregistry keychain to an [authn.Source] (the
// other way round from dockerauth.Keychain, which makes a keychain of a
// backend).
func FromKeychain(kc ggcrauthn.Keychain) authn.Source {
	return authn.SourceFunc(func(ctx context.Context, host string) (authn.Credential, error) {
		reg, err := name.NewRegistry(dockerConfigKey(host), name.WeakValidation)
		if err != nil {
			return authn.Credential{}, fmt.Errorf("docker config: registry host %q: %w", host, err)
		}
		auth, err := ggcrauthn.Resolve(ctx, kc, reg)
		if err != nil {
			return authn.Credential{}, fmt.Errorf("docker config for %s: %w", host, err)
		}
		if auth == ggcrauthn.Anonymous {
			return authn.Credential{}, authn.ErrNoCredential
		}
		cfg, err := ggcrauthn.Authorization(ctx, auth)
		if err != nil {
			return authn.Credential{}, fmt.Errorf("docker config for %s: %w", host, err)
		}
		c := authn.Credential{
			Username:      cfg.Username,
			Password:      cfg.Password,
			IdentityToken: cfg.IdentityToken,
			RegistryToken: cfg.RegistryToken,
		}
		if c.IsAnonymous() {
			return authn.Credential{}, authn.ErrNoCredential
		}
		return c, nil
	})
}

// dockerConfigKeychain is go-containerregistry's default keychain with the
// environment it reads made explicit.
type dockerConfigKeychain struct {
	lookup func(string) (string, bool)
}

func (k dockerConfigKeychain) env(key string) string {
	if k.lookup == nil {
		return ""
	}
	v, _ := k.lookup(key)
	return strings.TrimSpace(v)
}

// load returns the configuration file the environment points at, or nil.
func (k dockerConfigKeychain) load() (*configfile.ConfigFile, error) {
	for _, dir := range []string{k.env("DOCKER_CONFIG"), homeDockerDir(k.env("HOME"))} {
		if dir != "" && fileExists(filepath.Join(dir, config.ConfigFileName)) {
			return config.Load(dir)
		}
	}
	for _, file := range []string{k.env("REGISTRY_AUTH_FILE"), podmanAuthFile(k.env("XDG_RUNTIME_DIR"))} {
		if file == "" || !fileExists(file) {
			continue
		}
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return config.LoadFromReader(f)
	}
	return nil, nil
}

// Resolve implements ggcrauthn.Keychain.
func (k dockerConfigKeychain) Resolve(target ggcrauthn.Resource) (ggcrauthn.Authenticator, error) {
	cf, err := k.load()
	if err != nil || cf == nil {
		return ggcrauthn.Anonymous, err
	}
	key := target.RegistryStr()
	if key == name.DefaultRegistry {
		key = ggcrauthn.DefaultAuthKey // Docker Hub's historical key
	}
	cfg, err := cf.GetAuthConfig(key)
	if err != nil {
		return nil, err
	}
	cfg.ServerAddress = "" // set by GetAuthConfig; not a credential
	if cfg.Username == "" && cfg.Password == "" && cfg.Auth == "" && cfg.IdentityToken == "" && cfg.RegistryToken == "" {
		return ggcrauthn.Anonymous, nil
	}
	return ggcrauthn.FromConfig(ggcrauthn.AuthConfig{
		Username:      cfg.Username,
		Password:      cfg.Password,
		Auth:          cfg.Auth,
		IdentityToken: cfg.IdentityToken,
		RegistryToken: cfg.RegistryToken,
	}), nil
}

func homeDockerDir(home string) string {
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".docker")
}

func podmanAuthFile(runtimeDir string) string {
	if runtimeDir == "" {
		return ""
	}
	return filepath.Join(runtimeDir, "containers", "auth.json")
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// dockerConfigKey maps Docker Hub's API host to the key Docker stores its
// credential under.
func dockerConfigKey(host string) string {
	switch strings.ToLower(host) {
	case "docker.io", "registry-1.docker.io", "index.docker.io":
		return name.DefaultRegistry
	}
	return host
}
