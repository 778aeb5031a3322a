package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/molecule-ai/registrykit/authn"
	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/dockerauth"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/molecule-ai/registrykit/registry/watch"
)

// Demo credentials of the in-process registry.
const (
	demoUser = "demo"
	demoPAT  = "ghp_demo0000000000000000000000000000"
)

// runDemo shows the whole framework offline: an in-process registry with
// GHCR-style token auth, digest checks and what they cost, the watcher
// seeing a re-push, and the Docker Engine auth payload.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "demo", "[flags]", "  registryctl demo\n  registryctl demo -v    # also log every HTTP request\n", false)
	fs.BoolVar(&c.verbose, "v", false, "debug logs on stderr: every HTTP request with its status")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr("demo takes no arguments")
	}
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR, Users: map[string]string{demoUser: demoPAT}})
	defer srv.Close()
	out := e.stdout
	cost := &meter{srv: srv}

	prefix := srv.Host() + "/molecule-ai"
	fmt.Fprintf(out, "registrykit demo: an in-process registry that answers as GHCR does, on %s\n\n", srv.Host())
	envVars := map[string]string{
		"MOLECULE_IMAGE_REGISTRY": prefix, "MOLECULE_IMAGE_REGISTRY_FLAVOR": "ghcr",
		"GHCR_USER": demoUser, "GHCR_TOKEN": demoPAT,
	}
	fmt.Fprintf(out, "1. Configure\n   MOLECULE_IMAGE_REGISTRY=%s MOLECULE_IMAGE_REGISTRY_FLAVOR=ghcr GHCR_USER=%s GHCR_TOKEN=%s\n",
		prefix, demoUser, authn.Redacted)
	b, err := backends.FromEnv(&registry.Options{Env: registry.EnvMap(envVars), Logger: c.logger(e)})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   backend: flavor=%s host=%s prefix=%s\n\n", b.Flavor(), b.Host(), b.Prefix())

	fmt.Fprintln(out, "2. Push generated images for two runtimes")
	for _, rt := range []string{"langgraph", "codex"} {
		if _, err := pushRandom(srv, rt); err != nil {
			return err
		}
		img, _ := registry.RuntimeImage(b, rt)
		fmt.Fprintf(out, "   pushed %s\n", img)
	}
	cost.reset()

	fmt.Fprintln(out, "\n3. Resolve digests: what a check costs")
	for _, step := range []struct{ runtime, label string }{
		{"langgraph", "cold: the PAT as a bearer token, as ghcr.io takes it; no token request, no /v2/ probe"},
		{"langgraph", "steady: one HEAD"},
		{"codex", "new repository: one HEAD, no token to scope"},
		{"codex", "steady"},
	} {
		repo, _ := registry.RuntimeRepository(step.runtime)
		d, err := b.ManifestDigest(ctx, repo, registry.RuntimeTag)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "   %-10s %s  %s (%s)\n", step.runtime, short(d), cost.step(), step.label)
	}

	fmt.Fprintln(out, "\n4. Start the watcher: the first check only seeds")
	var refreshed []string
	w, err := watch.New(b, &watch.Options{Runtimes: []string{"langgraph", "codex"}, Handler: func(_ context.Context, img watch.Image, _, _ string) error {
		refreshed = append(refreshed, img.Runtime)
		return nil
	}})
	if err != nil {
		return err
	}
	printEvents(out, w.Check(ctx))
	fmt.Fprintf(out, "   %s\n", cost.step())

	fmt.Fprintln(out, "\n5. Push a new codex build; the next tick sees it move")
	if _, err := pushRandom(srv, "codex"); err != nil {
		return err
	}
	cost.reset()
	printEvents(out, w.Check(ctx))
	fmt.Fprintf(out, "   %s; handler refreshed: %s\n", cost.step(), strings.Join(refreshed, ", "))

	fmt.Fprintln(out, "\n6. What the Docker Engine receives to pull it (X-Registry-Auth, password redacted)")
	codex, err := registry.RuntimeImage(b, "codex")
	if err != nil {
		return err
	}
	v, err := dockerauth.RegistryAuth(ctx, b, codex)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   %s\n", redactedAuth(v))

	total := srv.Counts()
	fmt.Fprintf(out, "\nRegistry requests in all: %d (%d token, %d HEAD, %d GET, %d /v2/ probe)\n",
		total.Total(), total.Token, total.Head, total.Get, total.Ping)
	fmt.Fprintln(out, "Point MOLECULE_IMAGE_REGISTRY at your registry and run: registryctl digest -v --runtime langgraph")
	return nil
}

func pushRandom(srv *registrytest.Server, runtime string) (string, error) {
	img, err := random.Image(1024, 2)
	if err != nil {
		return "", err
	}
	h, err := srv.Push("molecule-ai/workspace-template-"+runtime, registry.RuntimeTag, img)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// meter reports the requests the registry received since the last step.
type meter struct {
	srv  *registrytest.Server
	last registrytest.Counts
}

func (m *meter) reset() { m.last = m.srv.Counts() }

func (m *meter) step() string {
	now := m.srv.Counts()
	d := registrytest.Counts{Ping: now.Ping - m.last.Ping, Token: now.Token - m.last.Token, Head: now.Head - m.last.Head, Get: now.Get - m.last.Get}
	m.last = now
	var parts []string
	for _, p := range []struct {
		n    int64
		what string
	}{{d.Ping, "probe"}, {d.Token, "token"}, {d.Head, "HEAD"}, {d.Get, "GET"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	plural := "s"
	if d.Total() == 1 {
		plural = ""
	}
	return fmt.Sprintf("%d request%s: %s", d.Total(), plural, strings.Join(parts, " + "))
}

func printEvents(w io.Writer, evs []watch.Event) {
	for _, ev := range evs {
		switch ev.Kind {
		case watch.Changed:
			fmt.Fprintf(w, "   %-7s %-10s %s -> %s\n", ev.Kind, ev.Image.Runtime, short(ev.Old), short(ev.New))
		case watch.Failed:
			fmt.Fprintf(w, "   %-7s %-10s %v\n", ev.Kind, ev.Image.Runtime, ev.Err)
		default:
			fmt.Fprintf(w, "   %-7s %-10s %s\n", ev.Kind, ev.Image.Runtime, short(ev.New))
		}
	}
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19] + "…"
	}
	return digest
}

// redactedAuth decodes an X-Registry-Auth value as the Engine does and
// hides its secrets.
func redactedAuth(v string) string {
	a, err := authconfig.Decode(v)
	if err != nil {
		return "<undecodable>"
	}
	for _, s := range []*string{&a.Password, &a.Auth, &a.IdentityToken, &a.RegistryToken} {
		if *s != "" {
			*s = authn.Redacted
		}
	}
	b, _ := json.Marshal(a)
	return string(b)
}
