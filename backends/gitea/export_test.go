package gitea

// Names the external tests use.
const (
	EnvUser  = envUser
	EnvToken = envToken
)

// Service is the service name in Gitea's challenge, for the external tests.
const Service = giteaService
