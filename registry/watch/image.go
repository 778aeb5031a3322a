package watch

import "github.com/molecule-ai/registrykit/registry"

// Image is one image to watch: a repository below the backend's prefix and
// a tag.
type Image struct {
	// Name is the full reference, "<prefix>/<repo>:<tag>"; events and seeds
	// are keyed by it.
	Name string
	// Repo is the repository below the backend's prefix.
	Repo string
	// Tag is the tag to follow.
	Tag string
	// Runtime is the workspace runtime the image belongs to, if any.
	Runtime string
}

// runtimeImages returns the image of each runtime of b, in the order given;
// registry.DefaultRuntimes when none are given. An invalid runtime name is
// an error that quotes it.
func runtimeImages(b registry.Backend, runtimes []string) ([]Image, error) {
	if len(runtimes) == 0 {
		runtimes = registry.DefaultRuntimes()
	}
	imgs := make([]Image, 0, len(runtimes))
	for _, rt := range runtimes {
		repo, err := registry.RuntimeRepository(rt)
		if err != nil {
			return nil, err
		}
		name, _ := registry.RuntimeImage(b, rt)
		imgs = append(imgs, Image{Name: name, Repo: repo, Tag: registry.RuntimeTag, Runtime: rt})
	}
	return imgs, nil
}
