package engine

import "github.com/molecule-ai/registrykit/registry"

// FromEnv returns the backend MOLECULE_IMAGE_REGISTRY names (default
// registry.DefaultPrefix), chosen among specs as package backends' FromEnv
// chooses among the built-in ones: the environment is the process's unless
// registry.WithEnv says otherwise, MOLECULE_IMAGE_REGISTRY_FLAVOR forces a driver
// unless registry.WithFlavor does, and selection then follows [Open]. It takes no
// context and does no I/O.
//
// A program links only the drivers it names: one that lists
// ghcr.Driver(), gitea.Driver() and distribution.Driver() compiles no AWS
// SDK package, where importing package backends (every flavor) compiles
// the SDK in for ECR and ECR Public.
func FromEnv(specs []Spec, opts ...registry.Option) (registry.Backend, error) {
	opts = append([]registry.Option{registry.WithEnv(registry.ProcessEnv())}, opts...)
	o := registry.NewOptions(opts...)
	p, err := registry.PrefixFromEnv(o.Environ)
	if err != nil {
		return nil, err
	}
	if o.Flavor == registry.FlavorUnknown {
		f, err := registry.FlavorFromEnv(o.Environ)
		if err != nil {
			return nil, err
		}
		opts = append(opts, registry.WithFlavor(f))
	}
	return Open(p, specs, opts...)
}
