package gitlab

// Names the external tests use.
const (
	EnvUser               = envUser
	EnvToken              = envToken
	EnvCIRegistry         = envCIRegistry
	EnvCIRegistryUser     = envCIRegistryUser
	EnvCIRegistryPassword = envCIRegistryPassword
)
