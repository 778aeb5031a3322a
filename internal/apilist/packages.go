package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// pkgFiles is one public package: its directory relative to the module root
// (slash-separated, as the counter prints it) and its parsed files.
type pkgFiles struct {
	dir   string
	files []*ast.File
}

// modulePath reads the module path from root's go.mod.
func modulePath(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("module root %q: %w; run from the library module's root or pass -root", root, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", filepath.Join(root, "go.mod"))
}

// skipDir returns filepath.SkipDir for a directory that holds no public
// package of this module: internal, testdata, examples, hidden ones and
// nested modules.
func skipDir(p, rel, base string) error {
	if rel == "." {
		return nil
	}
	if base == "internal" || base == "testdata" || base == "examples" || strings.HasPrefix(base, ".") {
		return filepath.SkipDir
	}
	if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
		return filepath.SkipDir
	}
	return nil
}

// publicPackages parses every public package under root with the rules of
// the project's API counter (tools/apicount): every non-test .go file
// outside directories named internal, testdata or examples, hidden
// directories and nested modules, whatever its build constraints; files of
// package main are left out.
func publicPackages(root string) ([]pkgFiles, *token.FileSet, error) {
	fset := token.NewFileSet()
	byDir := map[string]*pkgFiles{}
	var order []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return skipDir(p, rel, d.Name())
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse: %w", err)
		}
		if f.Name.Name == "main" {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		if byDir[dir] == nil {
			byDir[dir] = &pkgFiles{dir: dir}
			order = append(order, dir)
		}
		byDir[dir].files = append(byDir[dir].files, f)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	pkgs := make([]pkgFiles, 0, len(order))
	for _, dir := range order {
		pkgs = append(pkgs, *byDir[dir])
	}
	return pkgs, fset, nil
}
