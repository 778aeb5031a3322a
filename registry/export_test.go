package registry

// Names the external tests use.
const (
	DefaultRequestTimeout = defaultRequestTimeout
	MaxPrefixLength       = maxPrefixLength
)

var Flavors = flavors
