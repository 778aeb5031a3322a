// Package dockerconfig finds registry credentials in Docker's (and Podman's)
// client configuration, with docker/cli's own loader and credential helpers.
//
// It is apart from package authn so that a program compiles docker/cli and
// the credential helpers' client in only when it reads Docker's config:
// package backends plugs [From] into every backend it opens
// (registry.Options.DockerConfig); a program that calls engine.Open with its
// own drivers sets Options.DockerConfig to dockerconfig.From to do the
// same.
package dockerconfig
