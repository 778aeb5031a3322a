package regclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/molecule-ai/registrykit/internal/httpx"
	"github.com/molecule-ai/registrykit/registry"
)

// AcceptManifests lists the manifest media types a digest check accepts, so
// that the registry answers with what "docker pull" resolves: the index for a
// multi-platform image.
var AcceptManifests = strings.Join([]string{
	string(types.OCIImageIndex),
	string(types.OCIManifestSchema1),
	string(types.DockerManifestList),
	string(types.DockerManifestSchema2),
}, ", ")

// ManifestDigest implements registry.Backend: one HEAD request in steady
// state. Without a valid Docker-Content-Digest header, or when HEAD answers
// 405, it falls back to GET and hashes the body (at most 4 MiB).
func (b *Backend) ManifestDigest(ctx context.Context, repo, ref string) (string, error) {
	repository, err := b.repository(repo)
	if err != nil {
		return "", err
	}
	if err := checkRef(ref); err != nil {
		return "", err
	}
	resp, err := b.send(ctx, http.MethodHead, manifestPath(repository, ref), AcceptManifests, repository)
	if err != nil {
		return "", b.wrap(err, b.image(repository, ref))
	}
	switch resp.StatusCode {
	case http.StatusOK:
		httpx.Drain(resp)
		if d := resp.Header.Get("Docker-Content-Digest"); IsDigest(d) {
			return d, b.checkDigestRef(d, repository, ref)
		}
		b.cfg.Options.Log().DebugContext(ctx, "HEAD gave no valid Docker-Content-Digest; falling back to GET", "image", b.image(repository, ref))
	case http.StatusMethodNotAllowed:
		httpx.Drain(resp)
		b.cfg.Options.Log().DebugContext(ctx, "HEAD not allowed; falling back to GET", "image", b.image(repository, ref))
	default:
		return "", b.responseError(resp, b.image(repository, ref))
	}
	d, _, _, err := b.getManifest(ctx, repository, ref, b.image(repository, ref))
	return d, err
}

// PlatformDigest implements registry.PlatformResolver with one GET request:
// the digest of the manifest inside the index that matches platform, or the
// manifest's own digest when ref is a single-platform manifest.
func (b *Backend) PlatformDigest(ctx context.Context, repo, ref string, platform registry.Platform) (string, error) {
	repository, err := b.repository(repo)
	if err != nil {
		return "", err
	}
	if err := checkRef(ref); err != nil {
		return "", err
	}
	image := b.image(repository, ref)
	d, mediaType, body, err := b.getManifest(ctx, repository, ref, image)
	if err != nil {
		return "", err
	}
	if !types.MediaType(mediaType).IsIndex() {
		return d, nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(body))
	if err != nil {
		return "", &registry.Error{Kind: registry.ErrBadResponse, Op: "platform digest", Image: image, Err: fmt.Errorf("malformed index: %w", err)}
	}
	var available []string
	for _, m := range idx.Manifests {
		if m.Platform == nil || !m.MediaType.IsImage() {
			continue
		}
		if registry.PlatformMatches(platform, *m.Platform) {
			return m.Digest.String(), nil
		}
		available = append(available, m.Platform.String())
	}
	return "", &registry.Error{Kind: registry.ErrNotFound, Op: "platform digest", Image: image,
		Err: fmt.Errorf("no manifest for platform %s in the index (it has: %s)", platform.String(), strings.Join(available, ", "))}
}

// getManifest fetches the manifest and returns its digest (computed from the
// body and checked against the registry's header and against ref when ref
// is a digest), media type and body.
func (b *Backend) getManifest(ctx context.Context, repository, ref, image string) (digest, mediaType string, body []byte, err error) {
	resp, err := b.send(ctx, http.MethodGet, manifestPath(repository, ref), AcceptManifests, repository)
	if err != nil {
		return "", "", nil, b.wrap(err, image)
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", nil, b.responseError(resp, image)
	}
	body, err = httpx.ReadBody(resp, httpx.MaxManifestBody)
	if err != nil {
		return "", "", nil, b.wrap(err, image)
	}
	algorithm := "sha256"
	header := resp.Header.Get("Docker-Content-Digest")
	switch {
	case IsDigest(ref):
		algorithm, _, _ = strings.Cut(ref, ":")
	case IsDigest(header):
		algorithm, _, _ = strings.Cut(header, ":")
	}
	digest = computeDigest(algorithm, body)
	if IsDigest(header) && header != digest && strings.HasPrefix(header, algorithm+":") {
		return "", "", nil, &registry.Error{Kind: registry.ErrBadResponse, Op: "manifest digest", Image: image,
			Err: fmt.Errorf("registry says %s but the manifest hashes to %s", header, digest)}
	}
	if err := b.checkDigestRef(digest, repository, ref); err != nil {
		return "", "", nil, err
	}
	mediaType = resp.Header.Get("Content-Type")
	if mt := sniffMediaType(body); mt != "" {
		mediaType = mt
	}
	return digest, mediaType, body, nil
}

func manifestPath(repository, ref string) string {
	return "/v2/" + repository + "/manifests/" + ref
}

func computeDigest(algorithm string, body []byte) string {
	if algorithm == "sha512" {
		sum := sha512.Sum512(body)
		return "sha512:" + hex.EncodeToString(sum[:])
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// checkDigestRef verifies that a digest the registry returned for a ref that
// is itself a digest is that digest.
func (b *Backend) checkDigestRef(got, repository, ref string) error {
	if IsDigest(ref) && got != ref {
		return &registry.Error{Kind: registry.ErrBadResponse, Op: "manifest digest", Image: b.image(repository, ref),
			Err: fmt.Errorf("asked for %s, registry answered %s", ref, got)}
	}
	return nil
}

// sniffMediaType reads the mediaType field a manifest declares, which is
// more reliable than a Content-Type some registries get wrong.
func sniffMediaType(body []byte) string {
	var m struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return ""
	}
	return m.MediaType
}

// responseError maps a failed answer to a typed error with the flavor's hint.
func (b *Backend) responseError(resp *http.Response, image string) error {
	return httpx.ResponseError(resp, "manifest digest", image, b.cfg.Hint, b.cfg.Options.Now().Now())
}

// wrap types an error that is not one yet (a transport failure).
func (b *Backend) wrap(err error, image string) error {
	var re *registry.Error
	if errors.As(err, &re) {
		if re.Image == "" {
			re.Image = image
		}
		return err
	}
	var ce *registry.ConfigError
	if errors.As(err, &ce) {
		return err
	}
	return httpx.TransportError(err, "manifest digest", image)
}
