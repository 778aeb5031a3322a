package registry

import (
	"os"
	"strings"
)

// Env is the environment registrykit reads: MOLECULE_IMAGE_REGISTRY and its
// companions, the credential variables and Docker's config location
// (DOCKER_CONFIG, HOME) are looked up through one Env, so that a program or
// a test decides what the library sees. The AWS configuration is the
// exception that follows the process: with the process environment
// ([ProcessEnv], and With on top of it) the AWS SDK reads its own variables
// and files as in any AWS program, overrides of AWS variables included; a
// custom environment passes its AWS variables to the SDK as load options,
// though the SDK may still find credentials the process environment holds
// (see backends/ecrauth).
//
// The zero Env has no variables at all. [ProcessEnv] is the process
// environment, [EnvMap] a fixed set. An Env is immutable and safe for
// concurrent use.
type Env struct {
	lookup  func(string) (string, bool)
	process bool
}

// ProcessEnv returns the process environment (os.LookupEnv). It is the
// default of package backends. With it, the AWS SDK's default chain runs
// exactly as in any AWS program.
func ProcessEnv() Env { return Env{lookup: os.LookupEnv, process: true} }

// EnvMap returns an environment of exactly the variables in m. The map is
// copied. Nothing of the process environment is read: Docker's config is
// found through DOCKER_CONFIG or HOME in m (or not at all), and the AWS
// configuration through the AWS variables in m.
func EnvMap(m map[string]string) Env {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return Env{lookup: func(k string) (string, bool) { v, ok := c[k]; return v, ok }}
}

// Lookup returns the value of key with surrounding white space trimmed. It
// reports false when key is unset or blank.
func (e Env) Lookup(key string) (string, bool) {
	if e.lookup == nil {
		return "", false
	}
	v, ok := e.lookup(key)
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
	return Env{process: e.process, lookup: func(k string) (string, bool) {
		if v, ok := o[k]; ok {
			return v, v != ""
		}
		if base == nil {
			return "", false
		}
		return base(k)
	}}
}

// IsProcess reports whether e is the process environment ([ProcessEnv]).
func (e Env) IsProcess() bool { return e.process }

// PrefixFromEnv parses the prefix MOLECULE_IMAGE_REGISTRY names in env
// ([DefaultPrefix] when unset). It is the same parse [backends.FromEnv]
// makes, so image names built from it at program start match the backend's.
func PrefixFromEnv(env Env) (Prefix, error) {
	return ParsePrefix(env.Get(EnvRegistry))
}

// FlavorFromEnv parses MOLECULE_IMAGE_REGISTRY_FLAVOR in env; unset means
// [FlavorUnknown] (detect from the host).
func FlavorFromEnv(env Env) (Flavor, error) {
	return ParseFlavor(env.Get(EnvFlavor))
}
