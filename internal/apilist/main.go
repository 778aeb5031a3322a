// Command apilist writes the public API of the library module, one
// declaration a line, to api/registrykit.txt: every exported top-level
// identifier of every public package (outside internal/, testdata/,
// examples/ and nested modules; test files and package main left out), with
// exported fields and methods, and a header counting the exported top-level
// identifiers of each package.
//
//	go run ./internal/apilist       print the listing
//	go run ./internal/apilist -w    rewrite api/registrykit.txt (make api)
//
// The test of this package fails when the checked-in listing differs from
// the code, so that every change of the public API shows in review.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// ListingPath is where the listing is checked in, relative to the module
// root.
const ListingPath = "api/registrykit.txt"

func main() {
	root := flag.String("root", ".", "the library module's root directory")
	write := flag.Bool("w", false, "write "+ListingPath+" instead of printing the listing")
	flag.Parse()
	out, err := Listing(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apilist:", err)
		os.Exit(1)
	}
	if !*write {
		os.Stdout.Write(out)
		return
	}
	path := filepath.Join(*root, ListingPath)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "apilist:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "apilist:", err)
		os.Exit(1)
	}
}
