package bench

import (
	"fmt"
	"time"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/molecule-ai/registrykit/internal/e2e"
)

// Credentials of the benchmark registry.
const (
	User     = "bench"
	Password = "bench-password-0123"
)

// Fixture is the CNCF registry with token auth and repos r000, r001, ….
type Fixture struct {
	Reg     *e2e.Registry
	Target  Target
	Digests []string
}

// Repo names the i-th repository.
func Repo(i int) string { return fmt.Sprintf("r%03d", i) }

// NewFixture starts the registry in dir and pushes repos small images.
func NewFixture(dir string, repos int) (*Fixture, error) {
	reg, err := e2e.Start(e2e.TokenAuth, map[string]string{User: Password}, dir)
	if err != nil {
		return nil, err
	}
	reg.TokenLife = time.Hour
	f := &Fixture{Reg: reg, Target: Target{
		Host: reg.Host(), Org: "org", User: User, Password: Password,
		Realm: "http://" + reg.Host() + "/token", Service: reg.Host(),
	}}
	auth := remote.WithAuth(&ggcrauthn.Basic{Username: User, Password: Password})
	for i := range repos {
		img, err := random.Image(512, 2)
		if err != nil {
			return nil, err
		}
		ref, err := name.NewTag(fmt.Sprintf("%s/org/%s:latest", reg.Host(), Repo(i)), name.Insecure)
		if err != nil {
			return nil, err
		}
		if err := remote.Write(ref, img, auth); err != nil {
			reg.Close()
			return nil, err
		}
		d, _ := img.Digest()
		f.Digests = append(f.Digests, d.String())
		reg.AddRepository("org/" + Repo(i))
	}
	reg.Reset()
	return f, nil
}

// Close stops the registry.
func (f *Fixture) Close() { f.Reg.Close() }

// Requests returns every request the registry and its token server counted.
func (f *Fixture) Requests() int64 {
	c := f.Reg.Counts()
	return c.Ping + c.Token + c.Head + c.Get
}
