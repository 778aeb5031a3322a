package registry

import (
	"os"
	"strings"

	"github.com/molecule-ai/registrykit/internal/envvar"
)

// Env is the environment registrykit reads: MOLECULE_IMAGE_REGISTRY and its
// companions, the credential variables and Docker's config location
// (DOCKER_CONFIG, HOME) are looked up through one Env, so that a program or
// a test decides what the library sees.
//
// The zero Env is the process environment (os.LookupEnv): with it the AWS
// SDK reads its own variables and files as in any AWS program, overrides of
// AWS variables made with [Env.With] included. [EnvMap] is a fixed set of
// variables: nothing of the process environment is read, and the AWS
// configuration comes from the AWS variables in it (though the SDK may still
// find credentials the process environment holds; see backends/ecr). An Env
// is immutable and safe for concurrent use.
type Env struct {
	lookup func(string) (string, bool) // nil: os.LookupEnv
	fixed  bool                        // made by EnvMap: the process is not read
}

// EnvMap returns an environment of exactly the variables in m. The map is
// copied. Nothing of the process environment is read: Docker's config is
// found through DOCKER_CONFIG or HOME in m (or not at all), and the AWS
// configuration through the AWS variables in m.
func EnvMap(m map[string]string) Env {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return Env{fixed: true, lookup: func(k string) (string, bool) { v, ok := c[k]; return v, ok }}
}

// Lookup returns the value of key with surrounding white space trimmed. It
// reports false when key is unset or blank.
func (e Env) Lookup(key string) (string, bool) {
	get := e.lookup
	if get == nil {
		get = os.LookupEnv
	}
	v, ok := get(key)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// Get returns the value of key, trimmed, or "".
func (e Env) Get(key string) string {
	v, _ := e.Lookup(key)
	return v
}

// With returns e with the variables of overrides set on top (a value of ""
// unsets a variable). It stays the process environment if e is one, so a
// program can override MOLECULE_IMAGE_REGISTRY from a flag and keep the AWS
// SDK's own reading of the process; the AWS SDK does not see the overrides.
func (e Env) With(overrides map[string]string) Env {
	if len(overrides) == 0 {
		return e
	}
	o := make(map[string]string, len(overrides))
	for k, v := range overrides {
		o[k] = v
	}
	base := e.lookup
	if base == nil {
		base = os.LookupEnv
	}
	return Env{fixed: e.fixed, lookup: func(k string) (string, bool) {
		if v, ok := o[k]; ok {
			return v, v != ""
		}
		return base(k)
	}}
}

// IsProcess reports whether e reads the process environment: the zero Env,
// or one made from it with [Env.With].
func (e Env) IsProcess() bool { return !e.fixed }

// Prefix parses the prefix MOLECULE_IMAGE_REGISTRY names in e
// ([DefaultPrefix] when unset). It is the same parse backends.FromEnv
// makes, so image names built from it at program start match the backend's.
func (e Env) Prefix() (Prefix, error) { return ParsePrefix(e.Get(envvar.Registry)) }

// Flavor parses MOLECULE_IMAGE_REGISTRY_FLAVOR in e; unset means
// [FlavorUnknown] (detect from the host).
func (e Env) Flavor() (Flavor, error) { return ParseFlavor(e.Get(envvar.Flavor)) }
