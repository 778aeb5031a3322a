package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/molecule-ai/registrykit/backends"
	"github.com/molecule-ai/registrykit/registry"
)

// errHelp ends a command that printed its help.
var errHelp = errors.New("help")

// common holds the flags every command that opens a backend accepts.
type common struct {
	verbose  bool
	prefix   string
	flavor   string
	insecure stringList
	timeout  time.Duration
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// newFlags returns a flag set for a command, with the common flags when
// withCommon is set.
func newFlags(e *env, name, synopsis, examples string, withCommon bool) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c := &common{}
	if withCommon {
		fs.BoolVar(&c.verbose, "v", false, "debug logs on stderr: every HTTP request with its status (secrets redacted)")
		fs.StringVar(&c.prefix, "registry", "", "image prefix, overriding MOLECULE_IMAGE_REGISTRY")
		fs.StringVar(&c.flavor, "flavor", "", "force the flavor, overriding MOLECULE_IMAGE_REGISTRY_FLAVOR")
		fs.Var(&c.insecure, "insecure-host", "allow plain HTTP to this host (repeatable; loopback always is)")
		fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "give up after this long")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage:\n  registryctl %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
		if examples != "" {
			fmt.Fprintf(fs.Output(), "\nExamples:\n%s", examples)
		}
	}
	return fs, c
}

// parse parses args, mapping -h to errHelp and bad flags to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// environ overlays the flags on the environment.
func (c *common) environ(e *env) registry.Env {
	over := map[string]string{}
	if c.prefix != "" {
		over["MOLECULE_IMAGE_REGISTRY"] = c.prefix
	}
	if c.flavor != "" {
		over["MOLECULE_IMAGE_REGISTRY_FLAVOR"] = c.flavor
	}
	return e.environ.With(over)
}

func (c *common) logger(e *env) *slog.Logger {
	if !c.verbose {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// options returns the registry options the flags describe, new on every
// call.
func (c *common) options(e *env) *registry.Options {
	return &registry.Options{
		Env:           c.environ(e),
		Logger:        c.logger(e),
		InsecureHosts: slices.Clone(c.insecure),
		UserAgent:     "registryctl",
	}
}

// open opens the configured backend. It does no I/O.
func (c *common) open(e *env) (registry.Backend, error) {
	return backends.FromEnv(c.options(e))
}

// withTimeout bounds ctx by the -timeout flag.
func (c *common) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}
