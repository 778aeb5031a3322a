package names

import (
	"regexp"
	"testing"
)

// FuzzNameComponent checks the scanner against the grammar's regular
// expression.
func FuzzNameComponent(f *testing.F) {
	for _, s := range []string{"a", "molecule-ai", "a__b", "a___b", "a..b", "a.-b", "-a", "a-", "A", "a--b", "", "a_b.c-d"} {
		f.Add(s)
	}
	grammar := regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IsComponent(s), grammar.MatchString(s); got != want {
			t.Fatalf("IsComponent(%q) = %v, the grammar says %v", s, got, want)
		}
	})
}
