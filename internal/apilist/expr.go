package main

import (
	"bytes"
	"go/ast"
	"go/printer"
	"go/token"
	"path"
	"strconv"
	"strings"
)

// qualifier writes type expressions of one file on one line, with parameter
// names left out and package qualifiers made unambiguous: a package of the
// module by its path in the module ("registry", "authn/dockerconfig"), a
// standard package by its name, any other by its full import path — so
// that two packages both named authn cannot be told apart only by the
// file's import alias.
type qualifier struct {
	fset    *token.FileSet
	module  string
	imports map[string]string // local name -> import path
	pkg     *pkgIndex         // the package's declarations, nil in a lone file
}

func newQualifier(fset *token.FileSet, module string, f *ast.File) *qualifier {
	q := &qualifier{fset: fset, module: module, imports: map[string]string{}}
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue
		}
		if imp.Name != nil {
			q.imports[imp.Name.Name] = p
			continue
		}
		for _, name := range localNames(p) {
			if _, taken := q.imports[name]; !taken {
				q.imports[name] = p
			}
		}
	}
	return q
}

// importName is a standard package's name: the last element of its path,
// or the one before a major-version suffix (math/rand/v2).
func importName(p string) string {
	base := path.Base(p)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(p))
	}
	return base
}

// localNames guesses the names an import without an alias may be used
// under: its name by path, and that name without the "go-" prefix, "-go"
// suffix or ".vN" suffix some repositories carry (smithy-go is smithy).
func localNames(p string) []string {
	base := importName(p)
	names := []string{base, strings.TrimPrefix(base, "go-"), strings.TrimSuffix(base, "-go")}
	if i := strings.Index(base, "."); i > 0 {
		names = append(names, base[:i])
	}
	return names
}

// pkgQualifier is how a package imported under local name is written.
func (q *qualifier) pkgQualifier(local string) string {
	p, ok := q.imports[local]
	if !ok {
		return local
	}
	switch {
	case p == q.module:
		return path.Base(p)
	case strings.HasPrefix(p, q.module+"/"):
		return strings.TrimPrefix(p, q.module+"/")
	case !strings.Contains(strings.Split(p, "/")[0], "."):
		return importName(p) // the standard library
	default:
		return p
	}
}

// typ writes a type expression.
func (q *qualifier) typ(e ast.Expr) string {
	switch e := e.(type) {
	case nil:
		return ""
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return q.pkgQualifier(x.Name) + "." + e.Sel.Name
		}
		return q.typ(e.X) + "." + e.Sel.Name
	case *ast.StarExpr:
		return "*" + q.typ(e.X)
	case *ast.ParenExpr:
		return "(" + q.typ(e.X) + ")"
	case *ast.Ellipsis:
		return "..." + q.typ(e.Elt)
	case *ast.ArrayType:
		if e.Len == nil {
			return "[]" + q.typ(e.Elt)
		}
		return "[" + q.value(e.Len) + "]" + q.typ(e.Elt)
	case *ast.MapType:
		return "map[" + q.typ(e.Key) + "]" + q.typ(e.Value)
	case *ast.ChanType:
		return q.chanType(e)
	case *ast.FuncType:
		return "func" + q.signature(e)
	}
	return q.compositeType(e)
}

// compositeType writes an instantiated generic type, an interface or
// struct literal, or a constraint term.
func (q *qualifier) compositeType(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.IndexExpr:
		return q.typ(e.X) + "[" + q.typ(e.Index) + "]"
	case *ast.IndexListExpr:
		return q.typ(e.X) + "[" + q.list(e.Indices) + "]"
	case *ast.InterfaceType:
		return q.interfaceType(e)
	case *ast.StructType:
		return q.structType(e)
	case *ast.UnaryExpr: // ~T in a constraint
		return e.Op.String() + q.typ(e.X)
	case *ast.BinaryExpr: // A | B in a constraint
		return q.typ(e.X) + " " + e.Op.String() + " " + q.typ(e.Y)
	}
	return q.value(e)
}

// chanType writes a channel type.
func (q *qualifier) chanType(e *ast.ChanType) string {
	switch e.Dir {
	case ast.SEND:
		return "chan<- " + q.typ(e.Value)
	case ast.RECV:
		return "<-chan " + q.typ(e.Value)
	}
	return "chan " + q.typ(e.Value)
}

// list writes type expressions separated by commas.
func (q *qualifier) list(xs []ast.Expr) string {
	args := make([]string, len(xs))
	for i, x := range xs {
		args[i] = q.typ(x)
	}
	return strings.Join(args, ", ")
}

// interfaceType writes an interface type literal.
func (q *qualifier) interfaceType(e *ast.InterfaceType) string {
	var parts []string
	for _, m := range e.Methods.List {
		if ft, ok := m.Type.(*ast.FuncType); ok && len(m.Names) > 0 {
			parts = append(parts, m.Names[0].Name+q.signature(ft))
			continue
		}
		parts = append(parts, q.typ(m.Type))
	}
	if len(parts) == 0 {
		return "interface{}"
	}
	return "interface{ " + strings.Join(parts, "; ") + " }"
}

// structType writes a struct type literal.
func (q *qualifier) structType(e *ast.StructType) string {
	var parts []string
	for _, f := range e.Fields.List {
		if len(f.Names) == 0 {
			parts = append(parts, q.typ(f.Type))
			continue
		}
		for _, n := range f.Names {
			parts = append(parts, n.Name+" "+q.typ(f.Type))
		}
	}
	if len(parts) == 0 {
		return "struct{}"
	}
	return "struct{ " + strings.Join(parts, "; ") + " }"
}

// signature writes a function's parameters and results, without names.
func (q *qualifier) signature(ft *ast.FuncType) string {
	s := "(" + q.fieldTypes(ft.Params) + ")"
	if ft.Results == nil || len(ft.Results.List) == 0 {
		return s
	}
	res := q.fieldTypes(ft.Results)
	if len(ft.Results.List) == 1 && len(ft.Results.List[0].Names) <= 1 {
		return s + " " + res
	}
	return s + " (" + res + ")"
}

// fieldTypes lists the types of a parameter list, one per parameter.
func (q *qualifier) fieldTypes(fl *ast.FieldList) string {
	if fl == nil {
		return ""
	}
	var parts []string
	for _, f := range fl.List {
		n := max(len(f.Names), 1)
		for range n {
			parts = append(parts, q.typ(f.Type))
		}
	}
	return strings.Join(parts, ", ")
}

// typeParams writes a type parameter list with its names, which a generic
// declaration's users need.
func (q *qualifier) typeParams(fl *ast.FieldList) string {
	if fl == nil || len(fl.List) == 0 {
		return ""
	}
	var parts []string
	for _, f := range fl.List {
		names := make([]string, len(f.Names))
		for i, n := range f.Names {
			names[i] = n.Name
		}
		parts = append(parts, strings.Join(names, ", ")+" "+q.typ(f.Type))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// value writes an expression as the source has it, on one line.
func (q *qualifier) value(e ast.Expr) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, q.fset, e); err != nil {
		return "?"
	}
	return oneLine(b.String())
}

// oneLine joins a printed expression's lines.
func oneLine(s string) string {
	fields := strings.Fields(s)
	out := strings.Join(fields, " ")
	for _, r := range [][2]string{{"( ", "("}, {"{ ", "{"}, {", )", ")"}, {", }", "}"}, {",)", ")"}, {",}", "}"}} {
		out = strings.ReplaceAll(out, r[0], r[1])
	}
	return out
}
