// Package engine is registrykit's request engine and its public driver kit,
// in the manner of database/sql: the engine does the work, a driver only
// says what its flavor changes.
//
// A flavor is a [Spec]: which hosts or challenges it claims, and, per
// backend, a [Config] — a known token realm if any, the credential source, a
// repository normaliser, which answers mean "token rejected", and an
// optional token fetcher for registries whose tokens come from elsewhere
// (ECR's GetAuthorizationToken). [NewDriver] turns a Spec into a
// registry.Driver; the built-in drivers in package backends are written
// this way, with nothing but this package, and a third party writes its own
// the same way.
//
// The engine owns, in one request loop: the HTTP transport and its retries
// (429, 5xx and resets on idempotent requests, capped jittered back-off,
// Retry-After), redirects, challenge discovery (GET /v2/, or a challenge
// that first appears on a repository), the token exchange (GET with Basic
// credentials, or POST of an identity token), the token cache (refresh
// ahead of expiry, single flight), one realm-and-host rule for every place
// credentials could go (see checkRealm), a deadline on every operation,
// bounded reads, and the mapping of every answer to a typed registry error
// (errors.go).
package engine
