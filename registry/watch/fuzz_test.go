package watch_test

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
)

// fuzzSources are the senders, each with a request it authenticates, so
// that the fuzzer reaches the parsing of the body.
var fuzzSources = []struct {
	source watch.Source
	path   string
	header func(body []byte) map[string]string
}{
	{watch.GitHub(hookSecret), "/", func(b []byte) map[string]string {
		return map[string]string{"X-GitHub-Event": "package", "X-Hub-Signature-256": "sha256=" + sign(b)}
	}},
	{watch.Gitea(hookSecret), "/", func(b []byte) map[string]string {
		return map[string]string{"X-Gitea-Event-Type": "package", "X-Gitea-Signature": sign(b)}
	}},
	{watch.Harbor("Basic " + hookSecret), "/", func([]byte) map[string]string {
		return map[string]string{"Authorization": "Basic " + hookSecret}
	}},
	{watch.Distribution("Bearer " + hookSecret), "/", func([]byte) map[string]string {
		return map[string]string{"Authorization": "Bearer " + hookSecret}
	}},
	{watch.DockerHub(hookSecret), "/hooks/" + hookSecret, func([]byte) map[string]string { return nil }},
}

// Every sender's parser, given any authenticated body: no panic; an error
// or pushes, never both; every push names a repository, and a digest is
// never taken for a tag. Matching the pushes against a watcher does not
// panic either. (Gitea and Harbor name a push by digest with the digest,
// which must not be taken for a tag.)
func FuzzSources(f *testing.F) {
	for _, seed := range []string{
		`{"action":"published","package":{"name":"workspace-template-codex","namespace":"molecule-ai","package_type":"CONTAINER","package_version":{"container_metadata":{"tag":{"name":"latest"}}}}}`,
		`{"action":"created","package":{"name":"workspace-template-codex","version":"latest","type":"container","owner":{"login":"molecule-ai"}}}`,
		`{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.index.v1+json","repository":"molecule-ai/workspace-template-codex","tag":"latest"}}]}`,
		`{"push_data":{"tag":"latest"},"repository":{"repo_name":"molecule-ai/workspace-template-codex"}}`,
		`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"tag":"sha256:0123"}],"repository":{"repo_full_name":"molecule-ai/workspace-template-codex"}}}`,
		`{"action":"created","package":{"name":"workspace-template-codex","version":"sha256:0123","type":"container","owner":{"username":"molecule-ai"}}}`,
		`{"registry_package":null,"package":{}}`,
		`{`,
	} {
		for i := range fuzzSources {
			f.Add(uint8(i), []byte(seed))
		}
	}
	w, err := watch.New(registrytest.NewBackend("ghcr.io/molecule-ai"), &watch.Options{Runtimes: registry.DefaultRuntimes()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		src := fuzzSources[int(which)%len(fuzzSources)]
		req := httptest.NewRequest("POST", src.path, bytes.NewReader(body))
		for k, v := range src.header(body) {
			req.Header.Set(k, v)
		}
		pushes, err := src.source.Parse(req, body)
		if err != nil {
			if pushes != nil {
				t.Fatalf("%s: pushes %v with the error %v", src.source.Name(), pushes, err)
			}
			return
		}
		for _, p := range pushes {
			if p.Repository == "" {
				t.Fatalf("%s: a push without a repository: %+v", src.source.Name(), pushes)
			}
			digestVersions := src.source.Name() == "gitea" || src.source.Name() == "harbor" // a push by digest names it as the version
			if digestVersions && strings.HasPrefix(p.Tag, "sha256:") {
				t.Fatalf("%s: a digest taken for a tag: %q", src.source.Name(), p.Tag)
			}
		}
		_ = w.Match(pushes)
	})
}
