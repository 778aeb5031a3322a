package engine

import "github.com/molecule-ai/registrykit/registry"

// FromEnv returns the backend MOLECULE_IMAGE_REGISTRY names (default
// registry.DefaultPrefix), chosen among specs as package backends' FromEnv
// chooses among the built-in ones: the environment is Options.Env (the
// process's by default), MOLECULE_IMAGE_REGISTRY_FLAVOR forces a driver
// unless Options.Flavor does, and selection then follows [Open]. It takes no
// context and does no I/O. A nil o is the zero registry.Options.
//
// A program links only the drivers it names: one that lists
// ghcr.Driver(nil), gitea.Driver(nil) and distribution.Driver() compiles no
// AWS SDK package, where importing package backends (every flavor) compiles
// the SDK in for ECR and ECR Public.
func FromEnv(specs []Spec, o *registry.Options) (registry.Backend, error) {
	o = copyOptions(o)
	p, err := o.Env.Prefix()
	if err != nil {
		return nil, err
	}
	if o.Flavor == registry.FlavorUnknown {
		if o.Flavor, err = o.Env.Flavor(); err != nil {
			return nil, err
		}
	}
	return Open(p, specs, o)
}
