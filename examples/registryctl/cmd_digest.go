package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
)

func runDigest(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "digest", "[flags] (--runtime RT | NAME[:TAG|@DIGEST] | HOST/PATH[:TAG|@DIGEST])", `  registryctl digest --runtime langgraph
  registryctl digest workspace-template-codex:latest
  registryctl digest --platform linux/arm64 ghcr.io/molecule-ai/workspace-template-hermes
  registryctl digest -v --runtime autogen     # shows each request: what a check costs
`, true)
	runtime := fs.String("runtime", "", "a workspace runtime: its image <prefix>/workspace-template-<runtime>:latest")
	platform := fs.String("platform", "", "print the digest of this platform's manifest inside the index, os/arch[/variant]")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	b, repo, ref, err := target(e, c, *runtime, fs.Args())
	if err != nil {
		return err
	}
	var d string
	if *platform != "" {
		p, err := registry.ParsePlatform(*platform)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		d, err = b.PlatformDigest(ctx, repo, ref, p)
		if err != nil {
			return err
		}
	} else if d, err = b.ManifestDigest(ctx, repo, ref); err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, d)
	return err
}

// target resolves the image a command names (by --runtime or as its one
// argument) to a backend, a repository relative to that backend's prefix,
// and a tag or digest. A full reference on another host, or outside the
// configured prefix, opens a backend for that host.
func target(e *env, c *common, runtime string, args []string) (registry.Backend, string, string, error) {
	switch {
	case runtime != "" && len(args) > 0:
		return nil, "", "", usageErr("give --runtime or an image, not both")
	case runtime == "" && len(args) != 1:
		return nil, "", "", usageErr("name exactly one image, or --runtime")
	}
	b, err := c.open(e)
	if err != nil {
		return nil, "", "", err
	}
	if runtime != "" {
		repo, err := registry.RuntimeRepository(runtime)
		if err != nil {
			return nil, "", "", fmt.Errorf("%w: %v", errUsage, err)
		}
		return b, repo, registry.RuntimeTag, nil
	}
	a, err := parseImageArg(args[0])
	if err != nil {
		return nil, "", "", err
	}
	if a.Host == "" {
		return b, a.Path, a.Ref, nil
	}
	if strings.EqualFold(a.Host, b.Host()) {
		if rel, ok := strings.CutPrefix(a.Host+"/"+a.Path, b.Prefix()+"/"); ok {
			return b, rel, a.Ref, nil
		}
	}
	o := c.options(e)
	if !strings.EqualFold(a.Host, b.Host()) {
		// The forced flavor describes the configured registry, not this one.
		o.Flavor = registry.DetectFlavor(a.Host)
	} else {
		o.Flavor = b.Flavor()
	}
	other, err := backends.Open(a.Host, o)
	if err != nil {
		return nil, "", "", err
	}
	return other, a.Path, a.Ref, nil
}
