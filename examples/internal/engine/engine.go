// Package engine pulls workspace images through the Docker Engine with the
// configured backend's credentials and recreates the containers that run
// them. The example programs (imagewatch, adminrefresh) share it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/moby/moby/client"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/dockerauth"
)

// API is the part of the Docker Engine client the refresher uses;
// *client.Client implements it.
type API interface {
	ImagePull(ctx context.Context, ref string, options client.ImagePullOptions) (client.ImagePullResponse, error)
	ImageTag(ctx context.Context, options client.ImageTagOptions) (client.ImageTagResult, error)
	ImageInspect(ctx context.Context, image string, options ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerStop(ctx context.Context, id string, options client.ContainerStopOptions) (client.ContainerStopResult, error)
	ContainerRemove(ctx context.Context, id string, options client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	ContainerCreate(ctx context.Context, options client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerStart(ctx context.Context, id string, options client.ContainerStartOptions) (client.ContainerStartResult, error)
}

// Refresher pulls images from Backend through Engine.
type Refresher struct {
	Engine  API
	Backend registry.Backend
	Log     *slog.Logger
}

// Pull pulls image ("<prefix>/<repo>:<tag>") with the backend's credential
// in X-Registry-Auth (serveraddress = the backend's host) when image is on
// the backend's registry, anonymously otherwise. When digest is
// set the exact manifest is pulled by digest and then tagged as image, so
// what runs is what the watcher saw.
func (r *Refresher) Pull(ctx context.Context, image, digest string) error {
	auth, err := dockerauth.RegistryAuth(ctx, r.Backend, image)
	if err != nil {
		return err
	}
	ref := image
	if digest != "" {
		ref = repository(image) + "@" + digest
	}
	resp, err := r.Engine.ImagePull(ctx, ref, client.ImagePullOptions{RegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	defer resp.Close()
	if err := resp.Wait(ctx); err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	if digest != "" {
		if _, err := r.Engine.ImageTag(ctx, client.ImageTagOptions{Source: ref, Target: image}); err != nil {
			return fmt.Errorf("tag %s as %s: %w", ref, image, err)
		}
	}
	r.log().Info("pulled image", "image", image, "digest", digest)
	return nil
}

// LocalDigests returns the manifest digest each of images was pulled at, as
// the Engine records it in RepoDigests, keyed by image name; images the
// Engine does not have are left out. Seeding a watcher with it makes a
// change published while the watcher was down refresh on its first check.
func (r *Refresher) LocalDigests(ctx context.Context, images []string) map[string]string {
	out := map[string]string{}
	for _, image := range images {
		in, err := r.Engine.ImageInspect(ctx, image)
		if err != nil {
			continue // not pulled yet: the first check seeds it
		}
		repo := repository(image)
		for _, rd := range in.RepoDigests {
			if name, digest, ok := strings.Cut(rd, "@"); ok && name == repo {
				out[image] = digest
				break
			}
		}
	}
	return out
}

// Recreate replaces every container (running or not) created from image
// with a new one of the same name and configuration, started if the old one
// was running. It returns the names of the containers recreated; a failure
// on one container does not stop the others.
//
// A container is recognised by the reference it was created with
// (Config.Image in its inspection), not by the "ancestor" filter: the Engine
// resolves that filter's reference to the image the tag points at now
// (moby daemon/list.go), so once the pull before has moved the tag, the
// containers running the previous image would not match.
func (r *Refresher) Recreate(ctx context.Context, image string) ([]string, error) {
	list, err := r.Engine.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var done []string
	var errs []error
	for _, item := range list.Items {
		in, err := r.Engine.ContainerInspect(ctx, item.ID, client.ContainerInspectOptions{})
		if err != nil {
			errs = append(errs, fmt.Errorf("inspect %s: %w", item.ID, err))
			continue
		}
		if in.Container.Config == nil || in.Container.Config.Image != image {
			continue
		}
		name, err := r.recreate(ctx, item.ID, in, image)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, name)
	}
	return done, errors.Join(errs...)
}

func (r *Refresher) recreate(ctx context.Context, id string, in client.ContainerInspectResult, image string) (string, error) {
	c := in.Container
	name := strings.TrimPrefix(c.Name, "/")
	if c.Config == nil {
		return "", fmt.Errorf("container %s has no configuration", name)
	}
	running := c.State != nil && c.State.Running
	if running {
		if _, err := r.Engine.ContainerStop(ctx, id, client.ContainerStopOptions{}); err != nil {
			return "", fmt.Errorf("stop %s: %w", name, err)
		}
	}
	if _, err := r.Engine.ContainerRemove(ctx, id, client.ContainerRemoveOptions{}); err != nil {
		return "", fmt.Errorf("remove %s: %w", name, err)
	}
	cfg := *c.Config
	cfg.Image = image
	created, err := r.Engine.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &cfg, HostConfig: c.HostConfig})
	if err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	if running {
		if _, err := r.Engine.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
			return "", fmt.Errorf("start %s: %w", name, err)
		}
	}
	r.log().Info("recreated container", "name", name, "image", image)
	return name, nil
}

func (r *Refresher) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// repository strips the tag from "host/path:tag".
func repository(image string) string {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i]
	}
	return image
}
