package main

import (
	"context"
	"fmt"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/dockerauth"
)

func runDockerAuth(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "docker-auth", "[flags] [IMAGE]", `  registryctl docker-auth ghcr.io/molecule-ai/workspace-template-langgraph:latest
  curl --unix-socket /var/run/docker.sock -X POST \
    -H "X-Registry-Auth: $(registryctl docker-auth ghcr.io/molecule-ai/workspace-template-langgraph:latest)" \
    "http://localhost/images/create?fromImage=ghcr.io/molecule-ai/workspace-template-langgraph&tag=latest"

IMAGE defaults to the langgraph runtime image of the configured registry; an
image on another registry prints an empty line (pull it anonymously).
`, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageErr("docker-auth takes at most one IMAGE")
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	b, err := c.open(e)
	if err != nil {
		return err
	}
	image := fs.Arg(0)
	if image == "" {
		if image, err = registry.RuntimeImage(b, registry.DefaultRuntime); err != nil {
			return err
		}
	}
	v, err := dockerauth.RegistryAuth(ctx, b, image)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, v)
	return err
}

func runDockerConfig(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "docker-config", "[flags]", `  registryctl docker-config > ~/.docker/config.json
  registryctl docker-config -kubernetes regcred -namespace workspaces | kubectl apply -f -
`, true)
	secret := fs.String("kubernetes", "", "print a kubernetes.io/dockerconfigjson Secret with this name instead")
	namespace := fs.String("namespace", "default", "the Secret's namespace, with -kubernetes")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageErr("docker-config takes no arguments")
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	b, err := c.open(e)
	if err != nil {
		return err
	}
	var out []byte
	if *secret != "" {
		out, err = dockerauth.KubernetesSecret(ctx, *secret, *namespace, b)
	} else {
		out, err = dockerauth.DockerConfigJSON(ctx, b)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, string(out))
	return err
}
