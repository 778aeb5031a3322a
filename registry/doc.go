// Package registry is the core of registrykit: the [Backend] interface that
// every container-registry driver implements, the parsing of the
// MOLECULE_IMAGE_REGISTRY prefix, flavor detection from a registry host, the
// workspace runtimes and their images, and the typed errors every driver
// returns.
//
// The package knows no driver. A flavor is an engine.Spec (package
// registry/engine); package backends lists the built-in ones (GHCR, ECR, ECR
// Public, Gitea, GitLab and any OCI distribution registry) and engine.Open
// selects among any list of them, so a third party can add a flavor without
// touching this module.
//
// A typical caller never imports a driver directly:
//
//	b, err := backends.FromEnv()
//	if err != nil { ... }
//	img, _ := registry.RuntimeImage(b, "langgraph")
//	digest, err := b.ManifestDigest(ctx, "workspace-template-langgraph", "latest")
package registry
