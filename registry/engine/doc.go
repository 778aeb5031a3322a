// Package engine is registrykit's request engine and its public driver kit,
// in the manner of database/sql: the engine does the work, a driver only
// says what its flavor changes.
//
// A flavor is a [Spec]: which hosts or challenges it claims, and, per
// backend, a [Config] — how the registry authenticates ([TokenService],
// [Direct] with a fallback, or a [FetchedToken] such as ECR's
// GetAuthorizationToken), the credential source, a repository normaliser,
// and which answers mean "token rejected". [Open] selects among Specs and
// opens a backend; the built-in flavors in package backends are Specs
// written with nothing but this package, and a third party writes its own
// the same way.
//
// The engine owns, in one request loop: the HTTP transport and its retries
// (429, 5xx and resets on idempotent requests, capped jittered back-off,
// Retry-After), redirects, challenge discovery (GET /v2/, or a challenge
// that first appears on a repository), the token exchange (GET with Basic
// credentials, or POST of an identity token), the token cache (refresh
// ahead of expiry, one shared fetch whose callers each leave at their own
// deadline), one realm-and-host rule for every place credentials could go,
// a deadline on every operation, bounded reads, and the mapping of every
// answer to a typed registry error (errors.go).
package engine
