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

// RuntimeImages returns the image of every known runtime of b, in the order
// of registry.Runtimes.
func RuntimeImages(b registry.Backend) []Image {
	imgs := make([]Image, 0, len(registry.Runtimes()))
	for _, rt := range registry.Runtimes() {
		img, _ := RuntimeImage(b, rt)
		imgs = append(imgs, img)
	}
	return imgs
}

// RuntimeImage returns the image of one runtime, or an error for an unknown
// runtime.
func RuntimeImage(b registry.Backend, runtime string) (Image, error) {
	repo, err := registry.RuntimeRepository(runtime)
	if err != nil {
		return Image{}, err
	}
	name, _ := registry.RuntimeImage(b, runtime)
	return Image{Name: name, Repo: repo, Tag: registry.RuntimeTag, Runtime: runtime}, nil
}
