package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"slices"
	"sort"
	"strings"
)

// entry is one line of the listing; key orders it (package, then name, so
// that a type's fields and methods follow it).
type entry struct {
	key, line string
}

// Listing returns the listing of the module at root: a header with the
// counts of exported top-level identifiers per package and in total (as
// tools/apicount counts them), then one declaration a line, sorted.
func Listing(root string) ([]byte, error) {
	module, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	pkgs, fset, err := publicPackages(root)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	var entries []entry
	for _, p := range pkgs {
		ix := newPkgIndex()
		qs := make([]*qualifier, len(p.files))
		for i, f := range p.files {
			qs[i] = newQualifier(fset, module, f)
			qs[i].pkg = ix
			ix.add(qs[i], f)
		}
		for i, f := range p.files {
			counts[p.dir] += countExported(f)
			entries = append(entries, fileEntries(p.dir, qs[i], f)...)
		}
		entries = append(entries, ix.promotions(p.dir)...)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].key != entries[j].key {
			return entries[i].key < entries[j].key
		}
		return entries[i].line < entries[j].line
	})
	entries = slices.CompactFunc(entries, func(a, b entry) bool { return a.line == b.line })

	var b bytes.Buffer
	fmt.Fprintf(&b, "# The public API of %s: every exported top-level identifier of every\n", module)
	b.WriteString("# public package, with exported fields and methods. Generated; do not edit.\n")
	b.WriteString("# Regenerate with `go run ./internal/apilist -w` (make api).\n")
	b.WriteString("#\n")
	b.WriteString("# Exported top-level identifiers per package (consts, vars, types, funcs;\n")
	b.WriteString("# methods and fields not counted):\n")
	dirs := make([]string, 0, len(counts))
	total := 0
	for d, n := range counts {
		dirs = append(dirs, d)
		total += n
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		fmt.Fprintf(&b, "# %s %d\n", d, counts[d])
	}
	fmt.Fprintf(&b, "# total %d\n", total)
	for _, e := range entries {
		b.WriteString(e.line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// countExported counts f's exported top-level identifiers: consts, vars,
// types and funcs, not methods — tools/apicount's rule.
func countExported(f *ast.File) int {
	n := 0
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.IsExported() {
				n++
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						n++
					}
				case *ast.ValueSpec:
					for _, name := range s.Names {
						if name.IsExported() {
							n++
						}
					}
				}
			}
		}
	}
	return n
}

// fileEntries lists the exported declarations of one file of package dir.
func fileEntries(dir string, q *qualifier, f *ast.File) []entry {
	var out []entry
	add := func(name, decl string) {
		out = append(out, entry{key: dir + " " + name, line: "pkg " + dir + ", " + decl})
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil {
				add(d.Name.Name, "func "+d.Name.Name+q.typeParams(d.Type.TypeParams)+q.signature(d.Type))
				continue
			}
			recv, base := receiver(q, d.Recv)
			if base == "" || !ast.IsExported(base) {
				continue
			}
			add(base+"."+d.Name.Name, "method ("+recv+") "+d.Name.Name+q.signature(d.Type))
		case *ast.GenDecl:
			switch d.Tok {
			case token.TYPE:
				for _, s := range d.Specs {
					typeEntries(q, s.(*ast.TypeSpec), add)
				}
			case token.CONST, token.VAR:
				valueEntries(q, d, add)
			}
		}
	}
	return out
}

// receiver writes a method's receiver type ("T", "*T", "T[K]") and returns
// the name of its base type.
func receiver(q *qualifier, fl *ast.FieldList) (string, string) {
	if fl == nil || len(fl.List) == 0 {
		return "", ""
	}
	t := fl.List[0].Type
	s := q.typ(t)
	if st, ok := t.(*ast.StarExpr); ok {
		t = st.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return s, id.Name
	}
	return s, ""
}

// typeEntries lists an exported type: its definition, then its exported
// fields or interface methods one a line.
func typeEntries(q *qualifier, s *ast.TypeSpec, add func(name, decl string)) {
	if !s.Name.IsExported() {
		return
	}
	name := s.Name.Name
	head := "type " + name + q.typeParams(s.TypeParams)
	if s.Assign.IsValid() {
		add(name, head+" = "+q.typ(s.Type))
		return
	}
	switch t := s.Type.(type) {
	case *ast.StructType:
		add(name, head+" struct")
		for _, f := range t.Fields.List {
			if len(f.Names) == 0 {
				if ast.IsExported(embeddedName(f.Type)) {
					add(name+"."+embeddedName(f.Type), head+" struct, embedded "+q.typ(f.Type))
				}
				continue
			}
			for _, n := range f.Names {
				if n.IsExported() {
					add(name+"."+n.Name, head+" struct, "+n.Name+" "+q.typ(f.Type))
				}
			}
		}
	case *ast.InterfaceType:
		add(name, head+" interface")
		for _, m := range t.Methods.List {
			if ft, ok := m.Type.(*ast.FuncType); ok && len(m.Names) > 0 {
				if m.Names[0].IsExported() {
					add(name+"."+m.Names[0].Name, head+" interface, "+m.Names[0].Name+q.signature(ft))
				}
				continue
			}
			add(name+"."+q.typ(m.Type), head+" interface, embedded "+q.typ(m.Type))
		}
	default:
		add(name, head+" "+q.typ(s.Type))
	}
}

// embeddedName is the field name of an embedded type.
func embeddedName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return embeddedName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.IndexExpr:
		return embeddedName(t.X)
	case *ast.IndexListExpr:
		return embeddedName(t.X)
	}
	return ""
}

// valueEntries lists the exported consts or vars of one declaration, with
// their types: the declared one, the one a const repeats from the spec
// before it in its group, or one read off the value's form; failing
// those, the value as written.
func valueEntries(q *qualifier, d *ast.GenDecl, add func(name, decl string)) {
	kw := d.Tok.String()
	var lastType ast.Expr
	var lastValues []ast.Expr
	for iota, spec := range d.Specs {
		s := spec.(*ast.ValueSpec)
		typ, values, repeated := s.Type, s.Values, false
		if d.Tok == token.CONST && typ == nil && len(values) == 0 {
			typ, values, repeated = lastType, lastValues, true
		}
		lastType, lastValues = typ, values
		for i, n := range s.Names {
			if !n.IsExported() {
				continue
			}
			var v ast.Expr
			if i < len(values) {
				v = values[i]
			}
			line := kw + " " + n.Name
			switch {
			case d.Tok == token.CONST && typ != nil:
				line += " " + q.typ(typ) + " = " + constValue(q, v, iota, repeated)
			case d.Tok == token.CONST:
				line += " = " + constValue(q, v, iota, repeated)
			case typ != nil:
				line += " " + q.typ(typ)
			default:
				if t := inferType(q, v); t != "" {
					line += " " + t
				} else {
					line += " = " + q.value(v)
				}
			}
			add(n.Name, line)
		}
	}
}

// constValue writes a constant's value; one that repeats an iota
// expression says which iota it takes.
func constValue(q *qualifier, v ast.Expr, iota int, repeated bool) string {
	if v == nil {
		return "?"
	}
	if id, ok := v.(*ast.Ident); ok && id.Name == "iota" {
		return fmt.Sprint(iota)
	}
	if id, ok := v.(*ast.Ident); ok && q.pkg != nil {
		if val, ok := q.pkg.constOf(id); ok {
			return id.Name + " (= " + val + ")"
		}
	}
	s := q.value(v)
	if repeated || strings.Contains(s, "iota") {
		return s + fmt.Sprintf(" (iota = %d)", iota)
	}
	return s
}

// inferType reads the type of a var off its value where the form says it:
// errors.New and fmt.Errorf give error, a composite literal its type,
// strings.Join and fmt.Sprintf a string. It returns "" otherwise.
func inferType(q *qualifier, v ast.Expr) string {
	switch v := v.(type) {
	case *ast.CallExpr:
		if q.pkg != nil {
			if t := q.pkg.resultOf(v); t != "" {
				return t
			}
		}
		if sel, ok := v.Fun.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				switch q.pkgQualifier(x.Name) + "." + sel.Sel.Name {
				case "errors.New", "fmt.Errorf":
					return "error"
				case "strings.Join", "fmt.Sprintf", "fmt.Sprint":
					return "string"
				}
			}
		}
	case *ast.CompositeLit:
		return q.typ(v.Type)
	case *ast.UnaryExpr:
		if cl, ok := v.X.(*ast.CompositeLit); ok && v.Op == token.AND {
			return "*" + q.typ(cl.Type)
		}
	case *ast.BasicLit:
		switch v.Kind {
		case token.STRING:
			return "string"
		case token.INT:
			return "int"
		}
	}
	return ""
}
