package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/molecule-ai/registrykit/internal/e2e/bench"
)

// runNet runs the network benchmark (bench.RunNet, 40 ms round trip, 5
// runs) and writes its section, after a blank line when it follows the
// rest of the report.
func runNet(w io.Writer, appended bool) error {
	rep, err := bench.RunNet(context.Background(), bench.NetConfig{Progress: os.Stderr})
	if err != nil {
		return err
	}
	if appended {
		fmt.Fprintln(w)
	}
	rep.WriteMarkdown(w)
	return nil
}
