// Package authn holds registry credentials and where they come from, and
// knows no registry: a [Credential] whose secrets never print, and the
// [Source]s that yield one (environment pairs, static values, chains,
// anonymous access). Package registry/dockerauth encodes a backend's
// credential for the programs that pull: the Docker Engine's
// X-Registry-Auth header and Kubernetes' .dockerconfigjson document.
//
// Docker's config and its credential helpers are read by package
// authn/dockerconfig, apart so that a program compiles docker/cli in only
// when it uses them.
package authn
