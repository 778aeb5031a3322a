package gitea

// Names the external tests use.
const (
	EnvUser  = envUser
	EnvToken = envToken
)
