// Package registrytest is registrykit's test kit, in the spirit of
// net/http/httptest: what the library's own tests use, for programs that
// test their use of it the same way.
//
//   - [Server]: an in-memory OCI registry (go-containerregistry's
//     pkg/registry) behind an authentication front that answers as GHCR,
//     Gitea, GitLab, Harbor, Quay, a token-auth or htpasswd distribution
//     registry, or ECR's or ECR Public's registry does, and counts every
//     request by kind; Config.PullLimit adds Docker Hub's pull limit. It
//     listens on loopback only.
//   - [ECRAPI]: an ECR / ECR Public API endpoint that verifies the SigV4
//     signature of the real aws-sdk-go-v2 client and counts calls; [AWSEnv]
//     points a backend's environment at it. [SQSQueue]: an SQS queue, signed
//     the same way, for ECR push events (package registry/watch/ecrevents).
//   - [Backend]: a fake registry.Backend whose digests a test sets, for the
//     code that consumes a backend (a watcher, a pull handler).
//   - [Clock]: a fake registry.Clock that never sleeps.
//   - [DockerEngine]: an imitation Docker Engine API (image pull, tag,
//     inspect and list; container list, inspect, create, start, stop and
//     remove) that records each pull's X-Registry-Auth as the daemon
//     decodes it, for the code that pulls through the Engine. It is written
//     from the Engine API reference (moby's api/swagger.yaml) with plain
//     JSON structs: the test kit does not depend on moby.
//   - Config.Intercept: a hook that sees every request first and may
//     answer it instead of the registry (a status code, a reset, a stall),
//     to test how a program meets a misbehaving registry.
//
// Every wire fact a [Mode] imitates cites its source beside it: the
// registry's own code where it is open (go-gitea/gitea, goharbor/harbor,
// quay/quay, GitLab, distribution/distribution), its documentation or its
// users' reports where it is not (ghcr.io, Docker Hub, ECR). Where the
// sources are silent the imitation says so rather than guess. Known
// silences:
//   - ECR Public: whether its token service scopes tokens per repository,
//     and whether its token response states a lifetime (the imitation
//     scopes, and states none).
//   - ECR: the body of a 403 for an IAM or repository-policy denial (users
//     report the status; AWS does not document the text).
//   - ghcr.io: the WWW-Authenticate sent with a 403 DENIED, and whether a
//     missing image without credentials is 401 or 404; whether its token
//     service honours several scopes in one request (Config.MultiScope models
//     either answer).
//   - Docker Hub: whether the /v2/ challenge carries a scope; the token
//     lifetime is known only from captured responses (300 s), not a
//     document.
//   - GitLab: the default of container_registry_token_expire_delay is
//     stated by the documentation (5 minutes, 15 on GitLab.com), not read
//     from code.
package registrytest
