package main

import (
	"go/ast"
	"go/token"
)

// pkgIndex is what one package declares, exported or not, with the
// qualifier of the file each declaration is in: what an exported name
// exposes through an unexported one is listed from it.
type pkgIndex struct {
	types   map[string]declared[*ast.TypeSpec]
	methods map[string][]declared[*ast.FuncDecl] // by receiver base type
	funcs   map[string]declared[*ast.FuncDecl]
	consts  map[string]declared[ast.Expr] // unexported consts' values
}

type declared[T any] struct {
	decl T
	q    *qualifier
}

func newPkgIndex() *pkgIndex {
	return &pkgIndex{types: map[string]declared[*ast.TypeSpec]{}, methods: map[string][]declared[*ast.FuncDecl]{},
		funcs: map[string]declared[*ast.FuncDecl]{}, consts: map[string]declared[ast.Expr]{}}
}

// add indexes the declarations of f.
func (ix *pkgIndex) add(q *qualifier, f *ast.File) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				ix.funcs[d.Name.Name] = declared[*ast.FuncDecl]{d, q}
				continue
			}
			if _, base := receiver(q, d.Recv); base != "" {
				ix.methods[base] = append(ix.methods[base], declared[*ast.FuncDecl]{d, q})
			}
		case *ast.GenDecl:
			ix.addGen(q, d)
		}
	}
}

func (ix *pkgIndex) addGen(q *qualifier, d *ast.GenDecl) {
	for _, s := range d.Specs {
		switch s := s.(type) {
		case *ast.TypeSpec:
			ix.types[s.Name.Name] = declared[*ast.TypeSpec]{s, q}
		case *ast.ValueSpec:
			if d.Tok != token.CONST {
				continue
			}
			for i, n := range s.Names {
				if !n.IsExported() && i < len(s.Values) {
					ix.consts[n.Name] = declared[ast.Expr]{s.Values[i], q}
				}
			}
		}
	}
}

// promotions lists what exported types expose through unexported types of
// the package: the exported fields and methods of an unexported type an
// exported struct embeds (promoted to it), and of the unexported type an
// exported alias names. A change to them changes the public API although
// no exported declaration changed.
func (ix *pkgIndex) promotions(dir string) []entry {
	var out []entry
	for name, t := range ix.types {
		if !ast.IsExported(name) {
			continue
		}
		add := func(key, line string) {
			out = append(out, entry{key: dir + " " + name + "." + key, line: "pkg " + dir + ", " + line})
		}
		if t.decl.Assign.IsValid() {
			if id, ok := t.decl.Type.(*ast.Ident); ok && !id.IsExported() {
				ix.expose(name, "type "+name+" = "+id.Name, id.Name, add, 0)
			}
			continue
		}
		if st, ok := t.decl.Type.(*ast.StructType); ok {
			for _, f := range st.Fields.List {
				if u := embeddedName(f.Type); len(f.Names) == 0 && u != "" && !ast.IsExported(u) {
					ix.expose(name, "type "+name+" struct, promoted from "+u, u, add, 0)
				}
			}
		}
	}
	return out
}

// expose lists the exported fields and methods of unexported type u as
// seen through exported type name, and, for the unexported types u itself
// embeds, theirs.
func (ix *pkgIndex) expose(name, via, u string, add func(key, line string), depth int) {
	t, ok := ix.types[u]
	if !ok || depth > 4 {
		return
	}
	if st, ok := t.decl.Type.(*ast.StructType); ok {
		for _, f := range st.Fields.List {
			if len(f.Names) == 0 {
				if e := embeddedName(f.Type); e != "" && !ast.IsExported(e) {
					ix.expose(name, via+", "+e, e, add, depth+1)
				} else if e != "" {
					add(e, via+", embedded "+t.q.typ(f.Type))
				}
				continue
			}
			for _, n := range f.Names {
				if n.IsExported() {
					add(n.Name, via+", field "+n.Name+" "+t.q.typ(f.Type))
				}
			}
		}
	}
	for _, m := range ix.methods[u] {
		if m.decl.Name.IsExported() {
			add(m.decl.Name.Name, via+", method "+m.decl.Name.Name+m.q.signature(m.decl.Type))
		}
	}
}

// constOf returns the value of unexported const id, for a listing that
// shows what an exported const set from it is.
func (ix *pkgIndex) constOf(id *ast.Ident) (string, bool) {
	c, ok := ix.consts[id.Name]
	if !ok {
		return "", false
	}
	return c.q.value(c.decl), true
}

// resultOf returns the result type of a call to a function of the package
// that returns one value, for a var set from it.
func (ix *pkgIndex) resultOf(call *ast.CallExpr) string {
	id, ok := call.Fun.(*ast.Ident)
	if !ok {
		return ""
	}
	fn, ok := ix.funcs[id.Name]
	if !ok || fn.decl.Type.Results == nil || len(fn.decl.Type.Results.List) != 1 || len(fn.decl.Type.Results.List[0].Names) > 1 {
		return ""
	}
	return fn.q.typ(fn.decl.Type.Results.List[0].Type)
}
