// Command registryctl inspects and exercises the container registry that
// MOLECULE_IMAGE_REGISTRY configures, through registrykit's backends.
//
// Usage:
//
//	registryctl <command> [flags] [arguments]
//
// Run "registryctl help" for the commands and "registryctl <command> -h" for
// each one's flags and examples.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/molecule-ai/registrykit/examples/internal/hookserver"
	"github.com/molecule-ai/registrykit/registry"
)

// exitUsage is the exit status of a usage error; other failures exit 1.
const exitUsage = 2

// errUsage marks an error as a usage error.
var errUsage = errors.New("usage")

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, env *env, args []string) error
}

// env is what a command reads and writes, so tests can run commands in process.
type env struct {
	stdout, stderr io.Writer
	environ        registry.Env
	// listenTimeouts bound the requests of watch --listen (zero: the
	// hookserver defaults).
	listenTimeouts hookserver.Timeouts
}

func commands() []command {
	return []command{
		{"backend", "print the configured registry as JSON (offline)", runBackend},
		{"digest", "print the manifest digest of an image", runDigest},
		{"token", "print the type and expiry of a pull token", runToken},
		{"docker-auth", "print the Docker Engine X-Registry-Auth value", runDockerAuth},
		{"docker-config", "print a .dockerconfigjson document for the registry", runDockerConfig},
		{"watch", "watch runtime images and print one JSON line per event", runWatch},
		{"demo", "run the offline demo against an in-process registry", runDemo},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, environ: registry.Env{}}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		usage(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, errHelp):
				return 0
			case errors.Is(err, errUsage):
				fmt.Fprintf(e.stderr, "registryctl %s: %v\n", c.name, err)
				return exitUsage
			default:
				fmt.Fprintf(e.stderr, "registryctl: %v\n", err)
				return 1
			}
		}
	}
	fmt.Fprintf(e.stderr, "registryctl: unknown command %q; run registryctl help\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `registryctl talks to the container registry MOLECULE_IMAGE_REGISTRY configures
(default ghcr.io/molecule-ai) through registrykit.

Usage:
  registryctl <command> [flags] [arguments]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Environment:
  MOLECULE_IMAGE_REGISTRY         image prefix, host[:port][/path] (default ghcr.io/molecule-ai)
  MOLECULE_IMAGE_REGISTRY_FLAVOR  force ghcr | ecr | ecr-public | acr | gitea | gitlab | gar | distribution
  GHCR_USER, GHCR_TOKEN           GHCR credentials (a PAT with read:packages)
  GITEA_USER, GITEA_TOKEN         Gitea credentials
  AWS_*                           the AWS SDK's usual chain, for ECR
  GOOGLE_APPLICATION_CREDENTIALS  Google's credentials file, for Artifact Registry (else gcloud's, else the metadata server)
  DOCKER_CONFIG                   Docker's config and credential helpers, for any registry

Examples:
  registryctl demo
  registryctl backend
  registryctl digest --runtime langgraph
  MOLECULE_IMAGE_REGISTRY=git.example.com/molecule-ai registryctl digest -v workspace-template-codex:latest
  registryctl digest --platform linux/arm64 ghcr.io/molecule-ai/workspace-template-hermes:latest

Run "registryctl <command> -h" for a command's flags.
`)
}
