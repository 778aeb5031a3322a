// Package envvar names the environment variables registrykit reads for the
// registry an operator configured. The README documents them; the names are
// kept here once, for the packages that read or quote them.
package envvar

const (
	// Registry holds the image prefix, "host[:port][/path...]".
	Registry = "MOLECULE_IMAGE_REGISTRY"
	// Flavor optionally forces the registry flavor.
	Flavor = "MOLECULE_IMAGE_REGISTRY_FLAVOR"
	// User and Token hold credentials for the configured registry, whatever
	// its flavor. They are sent only to the host of Registry.
	User  = "MOLECULE_IMAGE_REGISTRY_USER"
	Token = "MOLECULE_IMAGE_REGISTRY_TOKEN"
)
