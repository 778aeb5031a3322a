// Package authn holds registry credentials and where they come from, and
// knows no registry: a [Credential] whose secrets never print, the [Source]s
// that yield one (environment pairs, Docker's config and credential helpers,
// static values, chains, anonymous access), and the encodings other programs
// expect — the Docker Engine's X-Registry-Auth header and Kubernetes'
// .dockerconfigjson document.
package authn
