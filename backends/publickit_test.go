package backends_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBuiltInDriversUseOnlyThePublicKit keeps the built-in drivers honest:
// each is written with what a third-party driver can import (registry,
// registry/engine, authn, backends/ecrauth), never with this module's
// internal packages, so anything they need the kit must export.
func TestBuiltInDriversUseOnlyThePublicKit(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, spec := range file.Imports {
			imported, _ := strconv.Unquote(spec.Path.Value)
			if strings.HasPrefix(imported, "github.com/molecule-ai/registrykit/internal") {
				t.Errorf("%s imports %s: a third-party driver cannot; export what it needs from registry/engine", path, imported)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 6 {
		t.Fatalf("checked %d driver files; the walk did not find the drivers", checked)
	}
}
