package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/molecule-ai/registrykit/registry"
	"github.com/molecule-ai/registrykit/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs one command line in process with env as the whole environment.
func runCLI(t *testing.T, envVars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, environ: registry.EnvMap(envVars)}
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

func TestBackendJSON(t *testing.T) {
	cases := []struct {
		prefix, flavor string
		want           map[string]any
	}{
		{"", "", map[string]any{"flavor": "ghcr", "host": "ghcr.io", "prefix": "ghcr.io/molecule-ai"}},
		{"123456789012.dkr.ecr.us-east-2.amazonaws.com/molecule-ai", "", map[string]any{"flavor": "ecr", "host": "123456789012.dkr.ecr.us-east-2.amazonaws.com", "account": "123456789012", "region": "us-east-2"}},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/molecule-ai", "", map[string]any{"flavor": "ecr", "region": "us-gov-west-1", "fips": true, "partition": "aws-us-gov"}},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/molecule-ai", "", map[string]any{"flavor": "ecr", "region": "cn-north-1", "partition": "aws-cn"}},
		{"git.example.com/molecule-ai", "gitea", map[string]any{"flavor": "gitea", "host": "git.example.com"}},
		{"git.example.com/molecule-ai", "", map[string]any{"flavor": "unknown"}},
		{"127.0.0.1:5000/molecule-ai", "distribution", map[string]any{"flavor": "distribution", "host": "127.0.0.1:5000", "prefix": "127.0.0.1:5000/molecule-ai"}},
		{"public.ecr.aws/a1b2c3", "", map[string]any{"flavor": "ecr-public"}},
	}
	for _, tc := range cases {
		t.Run(tc.prefix+"/"+tc.flavor, func(t *testing.T) {
			code, out, errOut := runCLI(t, map[string]string{"MOLECULE_IMAGE_REGISTRY": tc.prefix, "MOLECULE_IMAGE_REGISTRY_FLAVOR": tc.flavor}, "backend")
			require.Equal(t, 0, code, errOut)
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			for k, v := range tc.want {
				assert.Equal(t, v, got[k], k)
			}
			rts := got["runtimes"].(map[string]any)
			assert.Len(t, rts, 9)
			assert.Equal(t, got["prefix"].(string)+"/workspace-template-langgraph:latest", rts["langgraph"])
		})
	}
}

func TestBackendErrors(t *testing.T) {
	for _, bad := range []string{"https://ghcr.io/x", "ghcr.io/x:latest", "ghcr.io//x", "ghcr.io/X", "ghcr.io/a b", "h.example:70000"} {
		code, out, errOut := runCLI(t, map[string]string{"MOLECULE_IMAGE_REGISTRY": bad}, "backend")
		assert.Equal(t, 1, code, bad)
		assert.Empty(t, out)
		assert.True(t, strings.HasPrefix(errOut, "registryctl: "), errOut)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line")
		assert.Contains(t, errOut, "MOLECULE_IMAGE_REGISTRY")
	}
	code, _, errOut := runCLI(t, map[string]string{"MOLECULE_IMAGE_REGISTRY_FLAVOR": "quay"}, "backend")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "gitea")

	code, _, _ = runCLI(t, nil, "backend", "extra")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCLI(t, nil, "backend", "-nope")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCLI(t, nil, "frobnicate")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCLI(t, nil)
	assert.Equal(t, exitUsage, code)
	code, out, _ := runCLI(t, nil, "help")
	assert.Equal(t, 0, code)
	for _, c := range commands() {
		assert.Contains(t, out, c.name)
	}
	code, _, errOut = runCLI(t, nil, "digest", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "Examples:")
}

func TestDigestAndToken(t *testing.T) {
	srv := registrytest.NewServer(registrytest.Config{Mode: registrytest.GHCR, AllowAnonymous: true})
	defer srv.Close()
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	h, err := srv.Push("molecule-ai/workspace-template-langgraph", "latest", img)
	require.NoError(t, err)
	envVars := map[string]string{"MOLECULE_IMAGE_REGISTRY": srv.Host() + "/molecule-ai", "MOLECULE_IMAGE_REGISTRY_FLAVOR": "ghcr"}

	for _, args := range [][]string{
		{"digest", "--runtime", "langgraph"},
		{"digest", "workspace-template-langgraph"},
		{"digest", "workspace-template-langgraph:latest"},
		{"digest", "workspace-template-langgraph@" + h.String()},
		{"digest", srv.Host() + "/molecule-ai/workspace-template-langgraph:latest"},
		{"digest", "--platform", "linux/amd64", "workspace-template-langgraph"},
	} {
		code, out, errOut := runCLI(t, envVars, args...)
		require.Equal(t, 0, code, "%v: %s", args, errOut)
		assert.Equal(t, h.String()+"\n", out, args)
	}

	code, out, errOut := runCLI(t, envVars, "digest", "-v", "--runtime", "langgraph")
	require.Equal(t, 0, code)
	assert.Equal(t, h.String()+"\n", out)
	assert.Contains(t, errOut, "method=HEAD")
	assert.Contains(t, errOut, "status=200")

	code, out, _ = runCLI(t, envVars, "token", "--runtime", "langgraph")
	require.Equal(t, 0, code)
	var tok map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &tok))
	assert.Equal(t, "Bearer", tok["type"])
	assert.NotEmpty(t, tok["expiry"])
	assert.NotContains(t, tok, "token")

	code, out, _ = runCLI(t, envVars, "token", "--reveal", "workspace-template-langgraph")
	require.Equal(t, 0, code)
	require.NoError(t, json.Unmarshal([]byte(out), &tok))
	assert.NotEmpty(t, tok["token"])

	code, _, errOut = runCLI(t, envVars, "digest", "workspace-template-missing")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not found")
	code, _, _ = runCLI(t, envVars, "digest", "--runtime", "Not-Valid")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCLI(t, envVars, "digest")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCLI(t, envVars, "digest", "--runtime", "langgraph", "x")
	assert.Equal(t, exitUsage, code)
}

func TestParseImageArg(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	good := map[string]imageArg{
		"x":                         {Path: "x", Ref: "latest"},
		"x:v1":                      {Path: "x", Ref: "v1"},
		"org/x@" + d:                {Path: "org/x", Ref: d},
		"ghcr.io/org/x":             {Host: "ghcr.io", Path: "org/x", Ref: "latest"},
		"localhost/x:1":             {Host: "localhost", Path: "x", Ref: "1"},
		"127.0.0.1:5000/x:1":        {Host: "127.0.0.1:5000", Path: "x", Ref: "1"},
		"[::1]:5000/x":              {Host: "[::1]:5000", Path: "x", Ref: "latest"},
		"GHCR.io/org/x":             {Host: "ghcr.io", Path: "org/x", Ref: "latest"},
		"h.example:5000/a/b:t@" + d: {},
	}
	for in, want := range good {
		got, err := parseImageArg(in)
		if want == (imageArg{}) {
			assert.Error(t, err, in)
			continue
		}
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "https://ghcr.io/x", "x:", "x@latest", "a//b", "/x", "x/", "a b", "ghcr.io/"} {
		_, err := parseImageArg(bad)
		assert.ErrorIs(t, err, errUsage, bad)
	}
}

// FuzzParseImageArg checks that the CLI's image parser never panics and
// that what it accepts renders to a string it parses to the same value.
func FuzzParseImageArg(f *testing.F) {
	for _, s := range []string{"x", "x:v1", "ghcr.io/org/x@sha256:" + strings.Repeat("a", 64), "[::1]:5000/x", "a//b", "x@", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseImageArg(s)
		if err != nil {
			return
		}
		b, err := parseImageArg(a.String())
		if err != nil || a != b {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, a, a.String(), b, err)
		}
	})
}
