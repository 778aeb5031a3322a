//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/molecule-ai/registrykit/examples/internal/helpertest"
	"github.com/molecule-ai/registrykit/examples/internal/stdinlimit"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The helper is built once and run, as the Docker CLI runs it, through
// docker-credential-helpers' own client: a new process for every call.
func TestDockerCredentialHelper(t *testing.T) {
	bin := helpertest.Build(t, ".", name)

	// program is the client's view of the helper with env on top of the
	// test process's environment (as the Docker CLI passes its own on).
	program := func(env map[string]string) client.ProgramFunc {
		return client.NewShellProgramFuncWithEnv(bin, &env)
	}

	t.Run("ECR: ten gets cost one GetAuthorizationToken", func(t *testing.T) {
		ecr := helpertest.NewECR(t, "ecr", helpertest.Region, 12*time.Hour)
		registrytest.SetAWSEnv(t, helpertest.Creds, "AWS_ENDPOINT_URL_ECR", ecr.API.URL())
		env := helpertest.Env(t)
		env["MOLECULE_IMAGE_REGISTRY"] = ecr.Registry.Host() + "/molecule-ai"
		env["MOLECULE_IMAGE_REGISTRY_FLAVOR"] = "ecr" // loopback names no flavor
		env["AWS_REGION"] = helpertest.Region
		p := program(env)

		var passwords []string
		for i := range 10 {
			server := ecr.Registry.Host()
			if i%2 == 1 {
				server = "https://" + server // Docker hands either form
			}
			c, err := client.Get(p, server)
			require.NoError(t, err)
			assert.Equal(t, "AWS", c.Username)
			passwords = append(passwords, c.Secret)
		}
		assert.Equal(t, int64(1), ecr.API.Calls(), "ten gets, one GetAuthorizationToken")
		assert.Empty(t, ecr.API.Errors(), "every API call was correctly signed")
		require.Len(t, ecr.Issued(), 1)
		for _, pw := range passwords {
			assert.Equal(t, ecr.Issued()[0], pw)
		}
		assert.True(t, ecr.Pulls(t, "AWS", passwords[0]), "the registry takes the password")

		// Any ECR host, not only the configured one: its own driver, its own
		// cache entry.
		for range 10 {
			c, err := client.Get(p, helpertest.ECRHost)
			require.NoError(t, err)
			assert.Equal(t, "AWS", c.Username)
			assert.Equal(t, ecr.Issued()[len(ecr.Issued())-1], c.Secret)
		}
		assert.Equal(t, int64(2), ecr.API.Calls(), "twenty gets over two registries, two API calls")

		files := helpertest.CacheFiles(t, env) // 0700 directory, 0600 files
		assert.Len(t, files, 2)
		for name, data := range files {
			assert.NotContains(t, string(data), helpertest.SecretKey, name)
			assert.NotContains(t, string(data), helpertest.AccessKey, name)
		}
	})

	t.Run("ECR Public: authenticated once, anonymous without AWS credentials", func(t *testing.T) {
		ecr := helpertest.NewECR(t, "ecr-public", "us-east-1", 12*time.Hour)
		registrytest.SetAWSEnv(t, helpertest.Creds, "AWS_ENDPOINT_URL_ECR_PUBLIC", ecr.API.URL())
		env := helpertest.Env(t)
		p := program(env)
		for range 10 {
			c, err := client.Get(p, "public.ecr.aws")
			require.NoError(t, err)
			assert.Equal(t, "AWS", c.Username)
			assert.Equal(t, ecr.Issued()[0], c.Secret)
		}
		assert.Equal(t, int64(1), ecr.API.Calls())
		assert.Empty(t, ecr.API.Errors())
		assert.Len(t, helpertest.CacheFiles(t, env), 1)

		registrytest.SetAWSEnv(t, aws.Credentials{}, "AWS_ENDPOINT_URL_ECR_PUBLIC", ecr.API.URL())
		_, err := client.Get(program(helpertest.Env(t)), "public.ecr.aws")
		assert.True(t, credentials.IsErrCredentialsNotFound(err), "public images need no credential: %v", err)
		assert.Equal(t, int64(1), ecr.API.Calls())
	})

	t.Run("a PAT is handed out and never written", func(t *testing.T) {
		reg := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR})
		defer reg.Close()
		env := helpertest.Env(t)
		env["MOLECULE_IMAGE_REGISTRY"] = reg.Host() + "/molecule-ai"
		env["MOLECULE_IMAGE_REGISTRY_FLAVOR"] = "ghcr"
		env["GHCR_USER"], env["GHCR_TOKEN"] = "octocat", "ghp_0123456789abcdefghijklmnopqrstuvwxyz"
		// A Docker config that sends this registry to another helper: the
		// helper must not read it (a config naming registrykit itself would
		// make it run itself).
		probe := writeProbeHelper(t, env)
		p := program(env)
		for range 3 {
			c, err := client.Get(p, reg.Host())
			require.NoError(t, err)
			assert.Equal(t, "octocat", c.Username)
			assert.Equal(t, env["GHCR_TOKEN"], c.Secret)
		}
		assert.Empty(t, helpertest.CacheFiles(t, env), "no file holds the PAT")
		assert.Zero(t, reg.Counts().Total(), "a static credential costs no request")

		env["GHCR_USER"], env["GHCR_TOKEN"] = "", ""
		_, err := client.Get(program(env), reg.Host())
		assert.True(t, credentials.IsErrCredentialsNotFound(err), "anonymous: %v", err)
		assert.NoFileExists(t, probe, "Docker's config was not read")

		list, err := client.List(program(env))
		require.NoError(t, err)
		assert.Empty(t, list, "a static credential is not listed: nothing is stored")
	})

	t.Run("an unknown server is credentials not found, quietly", func(t *testing.T) {
		env := helpertest.Env(t)
		for _, server := range []string{"registry.example.com", "https://index.docker.io/v1/", "ghcr.io"} {
			_, err := client.Get(program(env), server)
			assert.True(t, credentials.IsErrCredentialsNotFound(err), "%s: %v", server, err)
			stdout, stderr, code := run(t, bin, env, "get", server)
			assert.Equal(t, 1, code)
			assert.Equal(t, "credentials not found in native keychain\n", stdout)
			assert.Empty(t, stderr, "no error storm")
		}
	})

	t.Run("store is refused; erase drops the cache; list names the cached registries", func(t *testing.T) {
		ecr := helpertest.NewECR(t, "ecr", helpertest.Region, 12*time.Hour)
		registrytest.SetAWSEnv(t, helpertest.Creds, "AWS_ENDPOINT_URL_ECR", ecr.API.URL())
		env := helpertest.Env(t)
		p := program(env)

		err := client.Store(p, &credentials.Credentials{ServerURL: helpertest.ECRHost, Username: "AWS", Secret: "typed-at-docker-login"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "read-only")
		assert.Contains(t, err.Error(), "credHelpers", "the message names the fix")
		assert.NotContains(t, err.Error(), "typed-at-docker-login")
		_, stderr, code := run(t, bin, env, "store", `{"ServerURL":"`+helpertest.ECRHost+`","Username":"AWS","Secret":"typed-at-docker-login"}`)
		assert.Equal(t, 1, code)
		assertOneLine(t, stderr, "read-only")

		list, err := client.List(p)
		require.NoError(t, err)
		assert.Empty(t, list)
		_, err = client.Get(p, helpertest.ECRHost)
		require.NoError(t, err)
		list, err = client.List(p)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{helpertest.ECRHost: "AWS"}, list)

		require.NoError(t, client.Erase(p, helpertest.ECRHost))
		list, err = client.List(p)
		require.NoError(t, err)
		assert.Empty(t, list)
		require.NoError(t, client.Erase(p, helpertest.ECRHost), "erasing nothing is fine")
		_, err = client.Get(p, helpertest.ECRHost)
		require.NoError(t, err)
		assert.Equal(t, int64(2), ecr.API.Calls(), "after erase, a new password")
	})

	t.Run("a cache file open to others is ignored and replaced", func(t *testing.T) {
		ecr := helpertest.NewECR(t, "ecr", helpertest.Region, 12*time.Hour)
		registrytest.SetAWSEnv(t, helpertest.Creds, "AWS_ENDPOINT_URL_ECR", ecr.API.URL())
		env := helpertest.Env(t)
		p := program(env)
		_, err := client.Get(p, helpertest.ECRHost)
		require.NoError(t, err)
		files, _ := filepath.Glob(filepath.Join(env["XDG_CACHE_HOME"], "registrykit", "*.json"))
		require.Len(t, files, 1)
		require.NoError(t, os.Chmod(files[0], 0o644))

		_, err = client.Get(p, helpertest.ECRHost)
		require.NoError(t, err)
		assert.Equal(t, int64(2), ecr.API.Calls(), "the unsafe file was not read")
		helpertest.CacheFiles(t, env) // and the new one is private again
		_, err = client.Get(p, helpertest.ECRHost)
		require.NoError(t, err)
		assert.Equal(t, int64(2), ecr.API.Calls())
	})

	t.Run("a password about to expire is not cached", func(t *testing.T) {
		ecr := helpertest.NewECR(t, "ecr", helpertest.Region, 10*time.Minute)
		registrytest.SetAWSEnv(t, helpertest.Creds, "AWS_ENDPOINT_URL_ECR", ecr.API.URL())
		env := helpertest.Env(t)
		for range 3 {
			_, err := client.Get(program(env), helpertest.ECRHost)
			require.NoError(t, err)
		}
		assert.Equal(t, int64(3), ecr.API.Calls(), "inside the 15-minute margin: fetched each time")
		assert.Empty(t, helpertest.CacheFiles(t, env))
	})

	t.Run("stdin is read up to 1 MiB", func(t *testing.T) {
		env := helpertest.Env(t)
		// Short lines, so that the protocol's line scanner (64 KiB a line)
		// alone would keep reading and joining them.
		atBound := strings.Repeat(" \n", (stdinlimit.Max-len("ghcr.io\n"))/2) + "ghcr.io\n"
		require.Len(t, atBound, stdinlimit.Max)
		stdout, stderr, code := run(t, bin, env, "get", atBound)
		assert.Equal(t, 1, code)
		assert.Equal(t, "credentials not found in native keychain\n", stdout, "at the bound, answered")
		assert.Empty(t, stderr)

		overBound := strings.Repeat(" \n", stdinlimit.Max/2) + "x"
		require.Len(t, overBound, stdinlimit.Max+1)
		stdout, stderr, code = run(t, bin, env, "get", overBound)
		assert.Equal(t, 1, code)
		assertOneLine(t, stderr, "the input on stdin is larger than 1048576 bytes")
		assert.Equal(t, stderr, stdout, "the same line on stdout, where Docker reads it")
	})

	t.Run("errors: one line with the fix, exit 1, no secret", func(t *testing.T) {
		denied := registrytest.NewECRAPI(registrytest.ECRAPIConfig{Service: "ecr", Region: helpertest.Region, Credentials: helpertest.Creds, Deny: true})
		defer denied.Close()
		registrytest.SetAWSEnv(t, helpertest.Creds, "AWS_ENDPOINT_URL_ECR", denied.URL())
		env := helpertest.Env(t)
		_, err := client.Get(program(env), helpertest.ECRHost)
		require.Error(t, err)
		assert.False(t, credentials.IsErrCredentialsNotFound(err))
		assert.Contains(t, err.Error(), "ecr:GetAuthorizationToken", "names the IAM action to grant")
		stdout, stderr, code := run(t, bin, env, "get", helpertest.ECRHost)
		assert.Equal(t, 1, code)
		assertOneLine(t, stderr, "grant the IAM action ecr:GetAuthorizationToken")
		assert.Equal(t, stderr, stdout, "the same line on stdout, where Docker reads it")
		assert.NotContains(t, stderr+err.Error(), helpertest.SecretKey)

		registrytest.SetAWSEnv(t, aws.Credentials{}, "AWS_ENDPOINT_URL_ECR", denied.URL())
		_, stderr, code = run(t, bin, env, "get", helpertest.ECRHost)
		assert.Equal(t, 1, code)
		assertOneLine(t, stderr, "AWS_ACCESS_KEY_ID")

		env["MOLECULE_IMAGE_REGISTRY"] = "https://user:hunter2@ghcr.io/molecule-ai"
		_, stderr, code = run(t, bin, env, "get", "ghcr.io")
		assert.Equal(t, 1, code)
		assertOneLine(t, stderr, "set MOLECULE_IMAGE_REGISTRY to host[:port][/path]")
		assert.NotContains(t, stderr, "hunter2")
	})
}

// run runs the helper directly with action and input, returning its
// stdout, its stderr and its exit status.
func run(t *testing.T, bin string, env map[string]string, action, input string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, action)
	cmd.Env = helpertest.Environ(env)
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	require.NoError(t, err)
	return stdout.String(), stderr.String(), 0
}

// assertOneLine checks that s is one line starting with the program's name
// and containing want.
func assertOneLine(t *testing.T, s, want string) {
	t.Helper()
	assert.Equal(t, 1, strings.Count(s, "\n"), "one line: %q", s)
	assert.True(t, strings.HasPrefix(s, name+": "), "%q", s)
	assert.Contains(t, s, want)
}

// writeProbeHelper writes a Docker config under env's HOME that hands every
// registry to a helper which records being run, and puts that helper on
// PATH; it returns the file the helper would create.
func writeProbeHelper(t *testing.T, env map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	marker := filepath.Join(dir, "probe-ran")
	script := "#!/bin/sh\ntouch '" + marker + "'\necho 'credentials not found in native keychain'\nexit 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "docker-credential-probe"), []byte(script), 0o755))
	env["PATH"] = dir + string(os.PathListSeparator) + os.Getenv("PATH")
	docker := filepath.Join(env["HOME"], ".docker")
	require.NoError(t, os.MkdirAll(docker, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(docker, "config.json"), []byte(`{"credsStore":"probe"}`), 0o600))
	return marker
}
