// Command docker-credential-registrykit is a Docker credential helper that
// hands Docker the pull credential registrykit would use: the configured
// registry's (MOLECULE_IMAGE_REGISTRY and its credential variables), for
// any ECR or ECR Public host a password from GetAuthorizationToken through
// the AWS SDK's default chain, as amazon-ecr-credential-helper does, and for
// any Azure Container Registry host an ACR refresh token (user name
// 00000000-0000-0000-0000-000000000000) from azidentity's
// DefaultAzureCredential, and for any Google Artifact Registry host
// (<location>-docker.pkg.dev, gcr.io, us.gcr.io, eu.gcr.io, asia.gcr.io)
// an access token from Google's Application Default Credentials, as
// docker-credential-gcr does.
//
// Install it on the PATH and name it in ~/.docker/config.json:
//
//	{"credHelpers": {"123456789012.dkr.ecr.us-east-2.amazonaws.com": "registrykit"}}
//
// Docker runs the helper once per command, so ECR passwords are kept in a
// file cache ($XDG_CACHE_HOME/registrykit, else ~/.cache/registrykit; 0700
// directory, 0600 files) until 15 minutes before they expire. Static
// credentials (PATs, tokens) and Google access tokens are never cached: a
// Google lookup costs one token request.
//
// The helper is read-only: "get" answers, "list" names the registries with
// a cached credential, "erase" drops a cached credential, and "store"
// (docker login) is refused. A registry it does not serve, or one that
// needs no credential, gets the protocol's "credentials not found", and
// Docker pulls anonymously. Any other failure is one line, on stderr and
// (as the protocol wants) on stdout, naming the fix; the exit status is 1.
// At most 1 MiB of stdin is read; a longer input is such a failure.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/molecule-ai/registrykit/examples/internal/pullcred"
	"github.com/molecule-ai/registrykit/examples/internal/stdinlimit"
	"github.com/molecule-ai/registrykit/registry"
)

// name is the program's name, as Docker looks it up.
const name = "docker-credential-registrykit"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	credentials.Name = name
	credentials.Package = "github.com/molecule-ai/registrykit/examples/docker-credential-registrykit"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		credentials.Version = bi.Main.Version
	}
	h := &helper{ctx: ctx, stderr: os.Stderr, resolver: pullcred.New(registry.Env{})}
	h.resolver.Warn = func(msg string) { fmt.Fprintf(h.stderr, "%s: warning: %s\n", name, oneLine(msg)) }
	h.resolver.Options = &registry.Options{UserAgent: name}
	code := serve(h, os.Args, os.Stdin, os.Stdout)
	stop()
	os.Exit(code)
}

// serve does what credentials.Serve does — run the action args[1] with
// stdin and stdout, printing an error on stdout — and returns the exit
// status, but reads at most stdinlimit.Max bytes of stdin: a longer input
// is refused with one line naming the bound, rather than buffered whole.
func serve(h *helper, args []string, stdin io.Reader, stdout io.Writer) int {
	usage := fmt.Sprintf("Usage: %s <store|get|erase|list|version>", credentials.Name)
	if len(args) != 2 {
		fmt.Fprintln(stdout, usage)
		return 1
	}
	switch args[1] {
	case "--version", "-v":
		_ = credentials.PrintVersion(stdout)
		return 0
	case "--help", "-h":
		fmt.Fprintln(stdout, usage)
		return 0
	}
	err := credentials.HandleCommand(h, args[1], stdinlimit.Reader(stdin, stdinlimit.Max, "the input on stdin"), stdout)
	if tooLarge := (*stdinlimit.TooLargeError)(nil); errors.As(err, &tooLarge) {
		err = h.fail(err)
	}
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	return 0
}

// helper implements credentials.Helper over a pullcred.Resolver.
type helper struct {
	ctx      context.Context
	stderr   io.Writer
	resolver *pullcred.Resolver
}

var _ credentials.Helper = (*helper)(nil)

// Get implements credentials.Helper.
func (h *helper) Get(serverURL string) (string, string, error) {
	c, err := h.resolver.Get(h.ctx, serverURL)
	switch {
	case errors.Is(err, pullcred.ErrNotFound):
		return "", "", credentials.NewErrCredentialsNotFound()
	case err != nil:
		return "", "", h.fail(err)
	}
	return c.Username, c.Password, nil
}

// Add implements credentials.Helper: docker login is refused, because the
// credentials come from the environment, not from Docker.
func (h *helper) Add(c *credentials.Credentials) error {
	return h.fail(fmt.Errorf("read-only helper: the credential for %s comes from MOLECULE_IMAGE_REGISTRY's credential variables or the AWS SDK chain, not from docker login; "+
		"set those, or remove %q from \"credHelpers\" in Docker's config.json to log in with Docker", pullcred.Host(c.ServerURL), pullcred.Host(c.ServerURL)))
}

// Delete implements credentials.Helper: docker logout drops the cached
// credential, so that the next pull fetches a new one.
func (h *helper) Delete(serverURL string) error {
	if err := h.resolver.Erase(h.ctx, serverURL); err != nil {
		return h.fail(err)
	}
	return nil
}

// List implements credentials.Helper: the registries with a valid cached
// credential, and their user names.
func (h *helper) List() (map[string]string, error) {
	return h.resolver.Cached(h.ctx), nil
}

// fail writes err on stderr as one line and returns it, as the same line,
// for credentials.Serve to print on stdout (where Docker reads it) before
// exiting 1.
func (h *helper) fail(err error) error {
	line := name + ": " + oneLine(err.Error())
	fmt.Fprintln(h.stderr, line)
	return errors.New(line)
}

// oneLine folds white space, newlines included, to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
