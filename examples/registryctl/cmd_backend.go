package main

import (
	"context"
	"encoding/json"

	"github.com/molecule-ai/registrykit/internal/host"
	"github.com/molecule-ai/registrykit/registry"
)

// backendInfo is what "registryctl backend" prints.
type backendInfo struct {
	Flavor    string            `json:"flavor"`
	Host      string            `json:"host"`
	Prefix    string            `json:"prefix"`
	Account   string            `json:"account,omitempty"`
	Region    string            `json:"region,omitempty"`
	FIPS      bool              `json:"fips,omitempty"`
	Partition string            `json:"partition,omitempty"`
	Product   string            `json:"product,omitempty"`
	Note      string            `json:"note,omitempty"`
	Runtimes  map[string]string `json:"runtimes"`
}

func runBackend(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "backend", "[flags]", `  registryctl backend
  MOLECULE_IMAGE_REGISTRY=123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai registryctl backend
  registryctl backend -probe -registry git.example.com/molecule-ai
`, true)
	probe := fs.Bool("probe", false, "probe the registry's /v2/ and report the flavor selected and, where its challenge tells, the product (gitea, gitlab, harbor, quay)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr("backend takes no arguments")
	}
	environ := c.environ(e)
	p, err := environ.Prefix()
	if err != nil {
		return err
	}
	flavor, err := environ.Flavor()
	if err != nil {
		return err
	}
	if flavor == registry.FlavorUnknown {
		flavor = registry.DetectFlavor(p.Host())
	}
	info := backendInfo{Flavor: flavor.String(), Host: p.Host(), Prefix: p.String(), Runtimes: runtimeImages(p)}
	if h, ok := host.ParseECR(p.Host()); ok {
		info.Account, info.Region, info.FIPS, info.Partition = h.Account, h.Region, h.FIPS, h.Partition()
	}
	if *probe {
		ctx, cancel := c.withTimeout(ctx)
		defer cancel()
		b, err := c.open(e)
		if err != nil {
			return err
		}
		c, err := b.Discover(ctx)
		if err != nil {
			return err
		}
		info.Flavor = b.Flavor().String()
		info.Product = product(c)
	} else if flavor == registry.FlavorUnknown {
		info.Note = "the flavor of this host is found by probing /v2/ on first use (gitea, gitlab or distribution); run with -probe to see it"
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(info)
}

// runtimeImages returns the image of each of registry.DefaultRuntimes below
// p, keyed by runtime.
func runtimeImages(p registry.Prefix) map[string]string {
	out := map[string]string{}
	for _, rt := range registry.DefaultRuntimes() {
		if img, err := registry.RuntimeImage(p, rt); err == nil {
			out[rt] = img
		}
	}
	return out
}
