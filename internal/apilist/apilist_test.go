package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The checked-in listing is the public API of the code: a change of the
// API must come with its listing, so that review sees it.
func TestListingIsCheckedIn(t *testing.T) {
	root := filepath.Join("..", "..")
	got, err := Listing(root)
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(root, ListingPath))
	require.NoError(t, err, "%s is missing: run `go run ./internal/apilist -w` (or make api) from the module root and commit it", ListingPath)
	if string(got) != string(want) {
		t.Fatalf("%s differs from the public API of the code (- checked in, + code):\n%s\nIf the change is intended, run `go run ./internal/apilist -w` (or make api) from the module root and commit %s.",
			ListingPath, lineDiff(string(want), string(got)), ListingPath)
	}
}

// lineDiff lists the lines only in old (-) and only in new (+).
func lineDiff(old, new string) string {
	count := map[string]int{}
	for _, l := range strings.Split(old, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(new, "\n") {
		count[l]--
	}
	var b strings.Builder
	emit := func(text, sign string, keep func(int) bool) {
		seen := map[string]bool{}
		for _, l := range strings.Split(text, "\n") {
			if keep(count[l]) && !seen[l] {
				seen[l] = true
				b.WriteString(sign + l + "\n")
			}
		}
	}
	emit(old, "-", func(n int) bool { return n > 0 })
	emit(new, "+", func(n int) bool { return n < 0 })
	return b.String()
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return root
}

// Every kind of declaration is listed on one line, and the header counts
// what tools/apicount counts: exported consts, vars, types and funcs of
// public packages, not methods or fields, nor internal, testdata,
// examples, nested-module, test or main files.
func TestListing(t *testing.T) {
	root := writeTree(t, map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.24.0\n",
		"a/a.go": `package a

import (
	"context"
	gauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/aws/smithy-go"
	"example.com/m/b"
)

// Kind is a kind.
type Kind int

const (
	KindA Kind = iota
	KindB
	kindC
	Limit = 8 << 10
)

var (
	ErrX = errors.New("x")
	Def  = Config{}
	Ptr  = &Config{}
	N    int
	hidden = 1
)

type Config struct {
	Name, Host string
	hidden     bool
	b.Thing
	*Base
	OnDone func(ctx context.Context, err error) (ok bool)
}

type Base struct{}

type Source interface {
	Resolve(ctx context.Context, host string) (string, error)
	b.Thing
	private()
}

type Alias = b.Thing

type List[T any, K comparable] struct{ Items []T }

func (l *List[T, K]) Len() int { return 0 }
func (c Config) String() string { return "" }
func (c Config) private()      {}
func (h hiddenT) Exported()     {}

type hiddenT struct{}

func New[T any](ctx context.Context, names ...string) (*List[T, string], error) { return nil, nil }
func Keys(kc gauthn.Keychain, e smithy.APIError) <-chan map[string][]*b.Thing { return nil }
func unexported() {}
`,
		"a/a_test.go":      "package a\n\nfunc TestOnly() {}\n",
		"b/b.go":           "package b\n\ntype Thing struct{ X int }\n",
		"cmd/tool/main.go": "package main\n\nfunc Exported() {}\n",
		"internal/x/x.go":  "package x\n\nfunc Internal() {}\n",
		"examples/e.go":    "package examples\n\nfunc Example() {}\n",
		"a/testdata/t.go":  "package t\n\nfunc T() {}\n",
		"nested/go.mod":    "module example.com/m/nested\n",
		"nested/n.go":      "package nested\n\nfunc N() {}\n",
		".hidden/h.go":     "package h\n\nfunc H() {}\n",
	})
	got, err := Listing(root)
	require.NoError(t, err)
	want := `# The public API of example.com/m: every exported top-level identifier of every
# public package, with exported fields and methods. Generated; do not edit.
# Regenerate with ` + "`go run ./internal/apilist -w`" + ` (make api).
#
# Exported top-level identifiers per package (consts, vars, types, funcs;
# methods and fields not counted):
# a 15
# b 1
# total 16
pkg a, type Alias = b.Thing
pkg a, type Base struct
pkg a, type Config struct
pkg a, type Config struct, embedded *Base
pkg a, type Config struct, Host string
pkg a, type Config struct, Name string
pkg a, type Config struct, OnDone func(context.Context, error) bool
pkg a, method (Config) String() string
pkg a, type Config struct, embedded b.Thing
pkg a, var Def Config
pkg a, var ErrX error
pkg a, func Keys(github.com/google/go-containerregistry/pkg/authn.Keychain, github.com/aws/smithy-go.APIError) <-chan map[string][]*b.Thing
pkg a, type Kind int
pkg a, const KindA Kind = 0
pkg a, const KindB Kind = 1
pkg a, const Limit = 8 << 10
pkg a, type List[T any, K comparable] struct
pkg a, type List[T any, K comparable] struct, Items []T
pkg a, method (*List[T, K]) Len() int
pkg a, var N int
pkg a, func New[T any](context.Context, ...string) (*List[T, string], error)
pkg a, var Ptr *Config
pkg a, type Source interface
pkg a, type Source interface, Resolve(context.Context, string) (string, error)
pkg a, type Source interface, embedded b.Thing
pkg b, type Thing struct
pkg b, type Thing struct, X int
`
	assert.Equal(t, want, string(got))
}

// A root that is no module is refused with the fix.
func TestListingNeedsTheModuleRoot(t *testing.T) {
	_, err := Listing(t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-root")
}

// What exported names expose through unexported ones is listed, so that a
// change to it shows: fields and methods promoted from an unexported
// embedded struct, the methods of an unexported type an exported alias
// names, a const set from an unexported const, a var's type read off the
// package function that sets it.
func TestListingSeesThroughUnexportedNames(t *testing.T) {
	listing := func(body string) string {
		t.Helper()
		out, err := Listing(writeTree(t, map[string]string{"go.mod": "module example.com/m\n\ngo 1.24\n", "p/p.go": "package p\n\n" + body}))
		require.NoError(t, err)
		return string(out)
	}
	base := `type inner struct{ Field int }

func (inner) Promoted() int { return 0 }

type Outer struct{ inner }

type impl struct{}

func (impl) Method() string { return "" }

type Alias = impl

const limit = 1 << 20

const Max = limit

func newThing() int { return 0 }

var Thing = newThing()
`
	got := listing(base)
	for _, want := range []string{
		"pkg p, type Outer struct, promoted from inner, field Field int",
		"pkg p, type Outer struct, promoted from inner, method Promoted() int",
		"pkg p, type Alias = impl, method Method() string",
		"pkg p, const Max = limit (= 1 << 20)",
		"pkg p, var Thing int",
	} {
		assert.Contains(t, got, want)
	}
	for name, changed := range map[string]string{
		"a promoted field's type": strings.Replace(base, "Field int", "Field string", 1),
		"a promoted field added":  strings.Replace(base, "Field int }", "Field int; Extra bool }", 1),
		"a promoted method":       strings.Replace(base, "Promoted() int { return 0 }", "Promoted(any) int { return 0 }", 1),
		"an alias's method":       strings.Replace(base, "Method() string", "Method(int) string", 1),
		"a const's value":         strings.Replace(base, "1 << 20", "1 << 10", 1),
		"a var's type":            strings.Replace(base, "func newThing() int { return 0 }", `func newThing() string { return "" }`, 1),
	} {
		assert.NotEqual(t, got, listing(changed), name)
	}
}
