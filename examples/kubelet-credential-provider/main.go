// Command kubelet-credential-provider is a kubelet image credential provider
// plugin (credentialprovider.kubelet.k8s.io/v1): it reads a
// CredentialProviderRequest on stdin and writes a CredentialProviderResponse
// on stdout with the pull credential registrykit would use for the image's
// registry — the configured registry's (MOLECULE_IMAGE_REGISTRY and its
// credential variables), for any ECR or ECR Public host a password from
// GetAuthorizationToken through the AWS SDK's default chain, and for any
// Azure Container Registry host an ACR refresh token from azidentity's
// DefaultAzureCredential (on AKS, the kubelet's managed identity), and for
// any Google Artifact Registry host an access token (user oauth2accesstoken)
// from Google's Application Default Credentials — on GKE, the node's or the
// workload identity's service account through the metadata server.
//
// The response's cacheKeyType is Registry. Its cacheDuration follows the
// credential's real expiry, less a 15-minute margin (11 h 45 min for a fresh
// ECR password, at most 45 min for a Google access token); a static credential (a PAT, a token) carries none, so the
// kubelet applies the provider's defaultCacheDuration. A registry the
// plugin does not serve, or one that needs no credential, gets a response
// without auth, and the kubelet pulls anonymously.
//
// The request is decoded strictly: an unknown field (such as the service
// account token a kubelet sends when tokenAttributes is configured, which
// this plugin does not use) is refused. Errors are one line on stderr,
// naming the fix, with exit status 1; the kubelet logs them.
//
// See the "Credential helpers" section of the repository's README for the
// CredentialProviderConfig that installs it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/molecule-ai/registrykit/examples/internal/credcache"
	"github.com/molecule-ai/registrykit/examples/internal/pullcred"
	"github.com/molecule-ai/registrykit/examples/internal/stdinlimit"
	"github.com/molecule-ai/registrykit/registry"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

// prog is the name errors start with.
const prog = "kubelet-credential-provider"

// Kinds of the API objects.
const (
	requestKind  = "CredentialProviderRequest"
	responseKind = "CredentialProviderResponse"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	r := pullcred.New(registry.Env{})
	r.Warn = func(msg string) {
		fmt.Fprintf(os.Stderr, "%s: warning: %s\n", prog, strings.Join(strings.Fields(msg), " "))
	}
	r.Options = &registry.Options{UserAgent: prog}
	code := run(ctx, r, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run answers one request and returns the exit status.
func run(ctx context.Context, r *pullcred.Resolver, stdin io.Reader, stdout, stderr io.Writer) int {
	resp, err := respond(ctx, r, stdin)
	if err == nil {
		err = json.NewEncoder(stdout).Encode(resp)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prog, strings.Join(strings.Fields(err.Error()), " "))
		return 1
	}
	return 0
}

// respond decodes the request and builds the response.
func respond(ctx context.Context, r *pullcred.Resolver, stdin io.Reader) (*v1.CredentialProviderResponse, error) {
	req, err := decodeRequest(stdin)
	if err != nil {
		return nil, err
	}
	ref, err := name.ParseReference(req.Image, name.WeakValidation)
	if err != nil {
		return nil, fmt.Errorf("image %q in the request is not an image reference: %w", req.Image, err)
	}
	resp := &v1.CredentialProviderResponse{
		TypeMeta:     metav1.TypeMeta{APIVersion: v1.SchemeGroupVersion.String(), Kind: responseKind},
		CacheKeyType: v1.RegistryPluginCacheKeyType,
	}
	c, err := r.Get(ctx, ref.Context().RegistryStr())
	switch {
	case errors.Is(err, pullcred.ErrNotFound):
		return resp, nil
	case err != nil:
		return nil, err
	}
	resp.Auth = map[string]v1.AuthConfig{c.Registry: {Username: c.Username, Password: c.Password}}
	if !c.Expires.IsZero() {
		// Cached by the kubelet until the margin before expiry, as the file
		// cache honours it; 0 (do not cache) once that is past.
		d := max(c.Expires.Sub(r.Now())-credcache.Margin, 0).Truncate(time.Second)
		resp.CacheDuration = &metav1.Duration{Duration: d}
	}
	return resp, nil
}

// decodeRequest decodes a CredentialProviderRequest strictly: unknown
// fields, trailing data and any other apiVersion or kind are refused.
func decodeRequest(stdin io.Reader) (*v1.CredentialProviderRequest, error) {
	data, err := stdinlimit.ReadAll(stdin, stdinlimit.Max, "the request on stdin")
	if tooLarge := (*stdinlimit.TooLargeError)(nil); errors.As(err, &tooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading the request from stdin: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var req v1.CredentialProviderRequest
	if err := dec.Decode(&req); err != nil {
		fix := "the kubelet sends one JSON object"
		if strings.Contains(err.Error(), "unknown field") {
			// A kubelet sends serviceAccountToken and serviceAccountAnnotations
			// only when the provider's entry has tokenAttributes.
			fix = "the plugin reads apiVersion, kind and image only; remove tokenAttributes from its CredentialProviderConfig entry"
		}
		return nil, fmt.Errorf("decoding the %s on stdin: %w; %s", requestKind, err, fix)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("decoding the %s on stdin: data after the object", requestKind)
	}
	if req.APIVersion != v1.SchemeGroupVersion.String() || req.Kind != requestKind {
		return nil, fmt.Errorf("the request is apiVersion %q kind %q; set apiVersion: %s for this plugin in the CredentialProviderConfig",
			req.APIVersion, req.Kind, v1.SchemeGroupVersion.String())
	}
	if req.Image == "" {
		return nil, fmt.Errorf("the %s names no image", requestKind)
	}
	return &req, nil
}
