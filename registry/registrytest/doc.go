// Package registrytest is registrykit's test kit, in the spirit of
// net/http/httptest: what the library's own tests use, for programs that
// test their use of it the same way.
//
//   - [Server]: an in-memory OCI registry (go-containerregistry's
//     pkg/registry) behind an authentication front that answers as GHCR,
//     Gitea, a token-auth or htpasswd distribution registry, or ECR's
//     registry does, and counts every request by kind. It listens on
//     loopback only.
//   - [ECRAPI]: an ECR / ECR Public API endpoint that verifies the SigV4
//     signature of the real aws-sdk-go-v2 client and counts calls; [AWSEnv]
//     points a backend's environment at it.
//   - [Backend]: a fake registry.Backend whose digests a test sets, for the
//     code that consumes a backend (a watcher, a pull handler).
//   - [Clock]: a fake registry.Clock that never sleeps.
//   - [Injector] and its faults: status codes, bodies, resets, stalls and
//     redirects injected into a Server.
package registrytest
