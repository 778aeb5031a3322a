package backends_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// flavorKnowledge lists what the built-in drivers may take from this
// module's internal packages: the parts of an ECR host name and the AWS
// plumbing the two ECR drivers share. None of it is a capability of the
// engine; a third-party driver knows its own registry's hosts and calls its
// own cloud SDK. Exporting them would add a dozen names to the public API
// for no caller of it.
var flavorKnowledge = map[string]bool{
	"host.ParseECR": true, "host.ECR": true, "ecrauth.*": true,
}

// TestBuiltInDriversUseOnlyThePublicKit keeps the built-in drivers honest:
// each is written with what a third-party driver can import (registry,
// registry/engine, authn), plus the flavor knowledge above, so anything the
// engine does for them the kit must export.
func TestBuiltInDriversUseOnlyThePublicKit(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(file string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(file, ".go") || strings.HasSuffix(file, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			return err
		}
		checked++
		internal := map[string]string{} // local name -> package name
		for _, spec := range f.Imports {
			imported, _ := strconv.Unquote(spec.Path.Value)
			if !strings.HasPrefix(imported, "github.com/molecule-ai/registrykit/internal/") {
				continue
			}
			name := path.Base(imported)
			local := name
			if spec.Name != nil {
				local = spec.Name.Name
			}
			internal[local] = name
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok || internal[id.Name] == "" {
				return true
			}
			pkg := internal[id.Name]
			if !flavorKnowledge[pkg+"."+sel.Sel.Name] && !flavorKnowledge[pkg+".*"] {
				t.Errorf("%s uses internal %s.%s: a third-party driver cannot; export what it needs from registry/engine", file, pkg, sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 6 {
		t.Fatalf("checked %d driver files; the walk did not find the drivers", checked)
	}
}
