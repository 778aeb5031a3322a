// Package e2e runs registrykit against the CNCF distribution registry
// (github.com/distribution/distribution/v3) in process, configured with
// token auth backed by a token server written here and with htpasswd. It is
// a module of its own so that the library's go.mod stays small.
package e2e
