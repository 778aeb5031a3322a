package registry

// FromEnv returns the backend MOLECULE_IMAGE_REGISTRY names (default
// [DefaultPrefix]), chosen among drivers as package backends' FromEnv
// chooses among the built-in ones: the environment is the process's unless
// [WithEnv] says otherwise, MOLECULE_IMAGE_REGISTRY_FLAVOR forces a driver
// unless [WithFlavor] does, and selection then follows [Open]. It takes no
// context and does no I/O.
//
// A program links only the drivers it names: one that lists
// ghcr.Driver(), gitea.Driver() and distribution.Driver() compiles no AWS
// SDK package, where importing package backends (every flavor) compiles
// the SDK in for ECR and ECR Public.
func FromEnv(drivers []Driver, opts ...Option) (Backend, error) {
	opts = append([]Option{WithEnv(ProcessEnv())}, opts...)
	o := NewOptions(opts...)
	p, err := PrefixFromEnv(o.Environ)
	if err != nil {
		return nil, err
	}
	if o.Flavor == FlavorUnknown {
		f, err := FlavorFromEnv(o.Environ)
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithFlavor(f))
	}
	return Open(p, drivers, opts...)
}
