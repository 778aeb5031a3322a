package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/molecule-ai/registrykit/internal/bounded"
	"github.com/molecule-ai/registrykit/registry"
	"golang.org/x/oauth2"
)

// acceptManifests lists the manifest media types a digest check accepts, so
// that the registry answers with what "docker pull" resolves: the index for a
// multi-platform image.
var acceptManifests = strings.Join([]string{
	string(types.OCIImageIndex),
	string(types.OCIManifestSchema1),
	string(types.DockerManifestList),
	string(types.DockerManifestSchema2),
}, ", ")

// ManifestDigest implements registry.Backend: one HEAD request in steady
// state. Without a valid Docker-Content-Digest header, or when HEAD answers
// 405, it falls back to GET and hashes the body (at most 4 MiB), which must
// be a manifest or an index.
func (b *backend) ManifestDigest(ctx context.Context, repo, ref string) (string, error) {
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	if err := b.ready(ctx); err != nil {
		return "", err
	}
	repository, err := b.repository(repo)
	if err != nil {
		return "", err
	}
	if err := checkRef(ref); err != nil {
		return "", err
	}
	d, ok, err := b.head(ctx, repository, ref)
	if err != nil || ok {
		return d, err
	}
	d, _, _, err = b.getManifest(ctx, repository, ref, b.image(repository, ref))
	return d, err
}

// head sends HEAD for the manifest; ok is false when the answer gave no
// usable digest and a GET must decide.
func (b *backend) head(ctx context.Context, repository, ref string) (digest string, ok bool, err error) {
	// The image's name is built only for an error or a log line, never on
	// the steady path.
	resp, tok, err := b.send(ctx, http.MethodHead, manifestPath(repository, ref), acceptManifests, repository)
	if err != nil {
		return "", false, transportError(err, "manifest digest", b.image(repository, ref))
	}
	switch resp.StatusCode {
	case http.StatusOK:
		drain(resp)
		if d := resp.Header.Get("Docker-Content-Digest"); isDigest(d) {
			return d, true, b.checkDigestRef(d, repository, ref)
		}
		b.opts.Log().DebugContext(ctx, "HEAD gave no valid Docker-Content-Digest; falling back to GET", "image", b.image(repository, ref))
	case http.StatusMethodNotAllowed:
		drain(resp)
		b.opts.Log().DebugContext(ctx, "HEAD not allowed; falling back to GET", "image", b.image(repository, ref))
	default:
		return "", false, b.answerError(resp, "manifest digest", b.image(repository, ref), tok)
	}
	return "", false, nil
}

// platformEntry remembers the last index seen for a reference and the
// platform digests found in it. Entries are never modified: a new digest
// makes a new entry.
type platformEntry struct {
	index     string
	platforms map[string]string
}

// platformCache maps "repository:ref" to what its index last said.
type platformCache struct {
	entries bounded.Map[string, platformEntry]
}

func (c *platformCache) lookup(key, index, platform string) (string, bool) {
	e, ok := c.entries.Get(key)
	if !ok || e.index != index {
		return "", false
	}
	d, ok := e.platforms[platform]
	return d, ok
}

func (c *platformCache) store(key, index, platform, digest string) {
	c.entries.Update(key, func(old platformEntry, ok bool) platformEntry {
		e := platformEntry{index: index, platforms: map[string]string{platform: digest}}
		if ok && old.index == index {
			for p, d := range old.platforms {
				e.platforms[p] = d
			}
			e.platforms[platform] = digest
		}
		return e
	})
}

// PlatformDigest returns the digest of the
// manifest inside the index that matches platform, or the manifest's own
// digest when ref is a single-platform manifest. It HEADs the index and
// GETs it only when its digest moved since the last call (Docker Hub counts
// a manifest GET as a pull, a HEAD as none): one HEAD in steady state.
func (b *backend) PlatformDigest(ctx context.Context, repo, ref string, platform registry.Platform) (string, error) {
	ctx, cancel := withDeadline(ctx, b.opts)
	defer cancel()
	if err := b.ready(ctx); err != nil {
		return "", err
	}
	repository, err := b.repository(repo)
	if err != nil {
		return "", err
	}
	if err := checkRef(ref); err != nil {
		return "", err
	}
	key, pkey := repository+":"+ref, platform.String()
	index, ok, err := b.head(ctx, repository, ref)
	if err != nil {
		return "", err
	}
	if ok {
		if d, hit := b.platforms.lookup(key, index, pkey); hit {
			return d, nil
		}
	}
	image := b.image(repository, ref)
	d, mediaType, body, err := b.getManifest(ctx, repository, ref, image)
	if err != nil {
		return "", err
	}
	if !types.MediaType(mediaType).IsIndex() {
		b.platforms.store(key, d, pkey, d)
		return d, nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(body))
	if err != nil {
		return "", &registry.Error{Kind: registry.ErrBadResponse, Op: "platform digest", Image: image, Err: sanitizedError{fmt.Errorf("malformed index: %w", err)}}
	}
	var available []string
	for _, m := range idx.Manifests {
		if m.Platform == nil || !m.MediaType.IsImage() {
			continue
		}
		if platformMatches(platform, *m.Platform) {
			b.platforms.store(key, d, pkey, m.Digest.String())
			return m.Digest.String(), nil
		}
		available = append(available, m.Platform.String())
	}
	return "", &registry.Error{Kind: registry.ErrNotFound, Op: "platform digest", Image: image,
		Err: fmt.Errorf("no manifest for platform %s in the index (it has: %s)", Sanitize(platform.String()), Sanitize(strings.Join(available, ", ")))}
}

// getManifest fetches the manifest and returns its digest (computed from the
// body and checked against the registry's header and against ref when ref
// is a digest), media type and body. A body that is not a manifest or an
// index (an HTML page, an empty body) is a bad response, not a digest.
func (b *backend) getManifest(ctx context.Context, repository, ref, image string) (digest, mediaType string, body []byte, err error) {
	resp, tok, err := b.send(ctx, http.MethodGet, manifestPath(repository, ref), acceptManifests, repository)
	if err != nil {
		return "", "", nil, transportError(err, "manifest digest", image)
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", nil, b.answerError(resp, "manifest digest", image, tok)
	}
	body, err = readBody(resp, maxManifestBody)
	if err != nil {
		return "", "", nil, transportError(err, "manifest digest", image)
	}
	mediaType, ok := manifestMediaType(body, resp.Header.Get("Content-Type"))
	if !ok {
		return "", "", nil, &registry.Error{Kind: registry.ErrBadResponse, Op: "manifest digest", Image: image,
			Err: fmt.Errorf("the answer (%s, %d bytes) is not an image manifest or index", quoteRemote(resp.Header.Get("Content-Type")), len(body))}
	}
	algorithm := "sha256"
	header := resp.Header.Get("Docker-Content-Digest")
	switch {
	case isDigest(ref):
		algorithm, _, _ = strings.Cut(ref, ":")
	case isDigest(header):
		algorithm, _, _ = strings.Cut(header, ":")
	}
	digest = computeDigest(algorithm, body)
	if isDigest(header) && header != digest && strings.HasPrefix(header, algorithm+":") {
		return "", "", nil, &registry.Error{Kind: registry.ErrBadResponse, Op: "manifest digest", Image: image,
			Err: fmt.Errorf("registry says %s but the manifest hashes to %s", header, digest)}
	}
	if err := b.checkDigestRef(digest, repository, ref); err != nil {
		return "", "", nil, err
	}
	return digest, mediaType, body, nil
}

// manifestMediaType returns the media type of body when it is a JSON image
// manifest or index: the mediaType it declares, else the Content-Type, which
// must then be a manifest type (an OCI manifest may omit mediaType).
func manifestMediaType(body []byte, contentType string) (string, bool) {
	var m struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     string          `json:"mediaType"`
		Config        json.RawMessage `json:"config"`
		Manifests     json.RawMessage `json:"manifests"`
		Layers        json.RawMessage `json:"layers"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.SchemaVersion != 2 {
		return "", false
	}
	mt := types.MediaType(m.MediaType)
	if mt == "" {
		mt = types.MediaType(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	switch {
	case mt.IsIndex():
		return string(mt), m.Manifests != nil
	case mt.IsImage():
		return string(mt), m.Config != nil
	case mt == "" || mt == "application/json":
		// An OCI manifest that declares no type: tell by its shape.
		if m.Manifests != nil {
			return string(types.OCIImageIndex), true
		}
		if m.Config != nil && m.Layers != nil {
			return string(types.OCIManifestSchema1), true
		}
	}
	return "", false
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
func (b *backend) checkDigestRef(got, repository, ref string) error {
	if isDigest(ref) && got != ref {
		return &registry.Error{Kind: registry.ErrBadResponse, Op: "manifest digest", Image: b.image(repository, ref),
			Err: fmt.Errorf("asked for %s, registry answered %s", ref, got)}
	}
	return nil
}

// answerError maps a failed answer to a typed error with the flavor's hint,
// scrubbing any echo of the Authorization that was sent.
func (b *backend) answerError(resp *http.Response, op, image string, tok *oauth2.Token) error {
	rejected := b.cfg.Rejected != nil && b.cfg.Rejected(resp)
	return answerError(resp, op, image, b.cfg.Hint, rejected, b.opts.Now().Now(), secretsOfToken(tok))
}

// platformMatches reports whether got satisfies want, as go-containerregistry's
// Platform.Satisfies decides (fields want leaves empty are not compared),
// except that an arm64 manifest without a variant satisfies
// "linux/arm64/v8", as Docker treats them alike.
func platformMatches(want, got registry.Platform) bool {
	if got.Satisfies(want) {
		return true
	}
	if want.Architecture == "arm64" && want.Variant == "v8" && got.Variant == "" {
		want.Variant = ""
		return got.Satisfies(want)
	}
	return false
}
