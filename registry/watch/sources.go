package watch

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The senders' formats are written out here: the one well-kept library of
// webhook parsers (github.com/go-playground/webhooks/v6) covers none of the
// package and registry events these senders emit, and each is a few lines.

// GitHub reads GitHub's "package" (and older "registry_package") webhook
// deliveries for container packages on ghcr.io, signed with the webhook's
// secret as X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of the
// body (docs.github.com, "Validating webhook deliveries"). The repository is
// "<owner>/<package name>" and the tag
// package_version.container_metadata.tag.name (docs.github.com, "Webhook
// events and payloads", package; octokit/webhooks payload schemas). The
// package type arrives as "CONTAINER", and a tag name may be empty (every
// watched tag is checked then).
func GitHub(secret string) Source { return githubSource{secret: []byte(secret)} }

type githubSource struct{ secret []byte }

func (githubSource) Name() string { return "github" }

func (s githubSource) Parse(r *http.Request, body []byte) ([]Push, error) {
	sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
	if !ok || !validHMAC(s.secret, body, sig) {
		return nil, ErrUnauthenticated
	}
	event := r.Header.Get("X-GitHub-Event")
	if event != "package" && event != "registry_package" {
		return nil, nil // a ping, or an event of no interest
	}
	var p struct {
		Action          string     `json:"action"`
		Package         *ghPackage `json:"package"`
		RegistryPackage *ghPackage `json:"registry_package"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("github delivery: %w", err)
	}
	pkg := p.Package
	if pkg == nil {
		pkg = p.RegistryPackage
	}
	if pkg == nil || !strings.EqualFold(pkg.PackageType, "container") || (p.Action != "published" && p.Action != "updated") {
		return nil, nil
	}
	owner := pkg.Namespace
	if owner == "" {
		owner = pkg.Owner.Login
	}
	if owner == "" || pkg.Name == "" {
		return nil, fmt.Errorf("github delivery: package without owner or name")
	}
	return []Push{{Repository: strings.ToLower(owner + "/" + pkg.Name), Tag: pkg.PackageVersion.ContainerMetadata.Tag.Name}}, nil
}

type ghPackage struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	PackageType string `json:"package_type"`
	Owner       struct {
		Login string `json:"login"`
	} `json:"owner"`
	PackageVersion struct {
		ContainerMetadata struct {
			Tag struct {
				Name string `json:"name"`
			} `json:"tag"`
		} `json:"container_metadata"`
	} `json:"package_version"`
}

// Gitea reads Gitea's (and Forgejo's) "package" webhook deliveries, signed
// with the webhook's secret as X-Gitea-Signature: the bare hex
// HMAC-SHA256 of the body (services/webhook/deliver.go, addDefaultHeaders,
// in go-gitea/gitea). The repository is "<owner>/<package name>" and the
// tag the package version, which is the digest for a push by digest
// (modules/structs/hook.go PackagePayload; the hook fires from
// handleCreateManifestResult).
func Gitea(secret string) Source { return giteaSource{secret: []byte(secret)} }

type giteaSource struct{ secret []byte }

func (giteaSource) Name() string { return "gitea" }

func (s giteaSource) Parse(r *http.Request, body []byte) ([]Push, error) {
	sig := r.Header.Get("X-Gitea-Signature")
	if sig == "" {
		sig = r.Header.Get("X-Forgejo-Signature")
	}
	if !validHMAC(s.secret, body, sig) {
		return nil, ErrUnauthenticated
	}
	// X-Gitea-Event-Type is always set; older releases send an empty
	// X-Gitea-Event for package hooks (HookEventType.Event in
	// modules/webhook/type.go had no package case).
	event := r.Header.Get("X-Gitea-Event-Type")
	for _, h := range []string{"X-Gitea-Event", "X-Forgejo-Event-Type", "X-Forgejo-Event"} {
		if event == "" {
			event = r.Header.Get(h)
		}
	}
	if event != "package" {
		return nil, nil
	}
	var p struct {
		Action  string `json:"action"`
		Package struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Type    string `json:"type"`
			Owner   struct {
				Login    string `json:"login"`
				Username string `json:"username"`
			} `json:"owner"`
		} `json:"package"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("gitea delivery: %w", err)
	}
	if p.Action != "created" || p.Package.Type != "container" {
		return nil, nil
	}
	owner := p.Package.Owner.Login
	if owner == "" {
		owner = p.Package.Owner.Username
	}
	if owner == "" || p.Package.Name == "" {
		return nil, fmt.Errorf("gitea delivery: package without owner or name")
	}
	tag := p.Package.Version
	if strings.HasPrefix(tag, "sha256:") {
		tag = "" // pushed by digest: check every watched tag
	}
	return []Push{{Repository: strings.ToLower(owner + "/" + p.Package.Name), Tag: tag}}, nil
}

// Distribution reads the CNCF distribution registry's own notifications
// (an Envelope of events, sent as application/vnd.docker.distribution.events.v1+json
// by v2 and v2+json by v3; notifications/event.go in distribution/distribution),
// the mechanism of self-hosted registries built on it (a self-managed
// GitLab's registry can be configured the same way; Harbor removed it in
// 2020 and has [Harbor]). The endpoint is configured in the registry's
// notifications.endpoints with a header; authorization is the value it must
// carry in the Authorization header ("Bearer <secret>"), compared in
// constant time. Blob pushes are "push" events too, so only manifests
// count: a target with a tag or a manifest media type.
func Distribution(authorization string) Source {
	return distributionSource{authorization: []byte(authorization)}
}

type distributionSource struct{ authorization []byte }

func (distributionSource) Name() string { return "distribution" }

func (s distributionSource) Parse(r *http.Request, body []byte) ([]Push, error) {
	if len(s.authorization) == 0 || subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), s.authorization) != 1 {
		return nil, ErrUnauthenticated
	}
	var env struct {
		Events []struct {
			Action string `json:"action"`
			Target struct {
				MediaType  string `json:"mediaType"`
				Repository string `json:"repository"`
				Tag        string `json:"tag"`
			} `json:"target"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("distribution delivery: %w", err)
	}
	var out []Push
	for _, e := range env.Events {
		t := e.Target
		if e.Action != "push" || t.Repository == "" || (t.Tag == "" && !isManifestType(t.MediaType)) {
			continue // a blob, a pull, a delete
		}
		out = append(out, Push{Repository: t.Repository, Tag: t.Tag})
	}
	return out, nil
}

func isManifestType(mt string) bool {
	return strings.Contains(mt, "manifest") || strings.Contains(mt, "image.index")
}

// Harbor reads Harbor's own webhooks (type PUSH_ARTIFACT;
// src/pkg/notifier/model/event.go in goharbor/harbor). Harbor signs
// nothing: the policy's auth header is sent verbatim as Authorization
// (notification/http_handler.go), so authorization is that value, compared
// in constant time. The repository is event_data.repository.repo_full_name
// and the tags event_data.resources[].tag (the digest when untagged).
func Harbor(authorization string) Source { return harborSource{authorization: []byte(authorization)} }

type harborSource struct{ authorization []byte }

func (harborSource) Name() string { return "harbor" }

func (s harborSource) Parse(r *http.Request, body []byte) ([]Push, error) {
	if len(s.authorization) == 0 || subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), s.authorization) != 1 {
		return nil, ErrUnauthenticated
	}
	var p struct {
		Type      string `json:"type"`
		EventData struct {
			Resources []struct {
				Tag string `json:"tag"`
			} `json:"resources"`
			Repository struct {
				RepoFullName string `json:"repo_full_name"`
			} `json:"repository"`
		} `json:"event_data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("harbor delivery: %w", err)
	}
	repo := p.EventData.Repository.RepoFullName
	if p.Type != "PUSH_ARTIFACT" || repo == "" {
		return nil, nil
	}
	var out []Push
	for _, res := range p.EventData.Resources {
		tag := res.Tag
		if strings.HasPrefix(tag, "sha256:") {
			tag = ""
		}
		out = append(out, Push{Repository: repo, Tag: tag})
	}
	if len(out) == 0 {
		out = []Push{{Repository: repo}}
	}
	return out, nil
}

// DockerHub reads Docker Hub's repository webhooks, which carry no
// signature: mount the Receiver at a path holding secret, which the
// delivery's URL path must end with (compared in constant time). The
// repository is repository.repo_name and the tag push_data.tag (docker/docs,
// content/manuals/docker-hub/repos/manage/webhooks.md; Docker documents no
// signature).
func DockerHub(secret string) Source { return dockerHubSource{secret: []byte(secret)} }

type dockerHubSource struct{ secret []byte }

func (dockerHubSource) Name() string { return "dockerhub" }

func (s dockerHubSource) Parse(r *http.Request, body []byte) ([]Push, error) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	last := path[strings.LastIndex(path, "/")+1:]
	if len(s.secret) < 16 || subtle.ConstantTimeCompare([]byte(last), s.secret) != 1 {
		return nil, ErrUnauthenticated
	}
	var p struct {
		PushData struct {
			Tag string `json:"tag"`
		} `json:"push_data"`
		Repository struct {
			RepoName string `json:"repo_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("docker hub delivery: %w", err)
	}
	repo := p.Repository.RepoName
	if repo == "" {
		return nil, fmt.Errorf("docker hub delivery: no repository")
	}
	if !strings.Contains(repo, "/") {
		repo = "library/" + repo
	}
	return []Push{{Repository: repo, Tag: p.PushData.Tag}}, nil
}

// validHMAC reports whether sig is the hex HMAC-SHA256 of body under secret.
// An empty secret authenticates nothing.
func validHMAC(secret, body []byte, sig string) bool {
	if len(secret) == 0 || sig == "" {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
