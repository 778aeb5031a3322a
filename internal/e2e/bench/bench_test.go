package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/molecule-ai/registrykit/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Concurrencies measured for throughput.
var concurrencies = []int{1, 8, 64}

// BenchmarkCheck measures a steady-state digest check (token cached where
// the approach caches one) for every approach at concurrency 1, 8 and 64,
// reporting the registry requests per check as req/op.
func BenchmarkCheck(b *testing.B) {
	fx, err := NewFixture(b.TempDir(), 1)
	require.NoError(b, err)
	defer fx.Close()
	ctx := context.Background()
	for _, a := range Approaches() {
		for _, c := range concurrencies {
			b.Run(fmt.Sprintf("%s/c=%d", a.Name, c), func(b *testing.B) {
				ch, err := a.New(fx.Target)
				require.NoError(b, err)
				_, err = ch.Check(ctx, Repo(0)) // warm: connections and tokens
				require.NoError(b, err)
				fx.Reg.Reset()
				steady(b, ch, c, fx.Requests)
			})
		}
	}
}

// BenchmarkClient measures the same steady-state check against a registry
// that answers from memory, so that the time is the clients' own.
func BenchmarkClient(b *testing.B) {
	st := NewStatic()
	defer st.Close()
	ctx := context.Background()
	for _, a := range Approaches() {
		if a.Name == "ggcr-remote.Head" || a.Name == "old-code" {
			continue // three and two requests per check: not comparable here
		}
		for _, c := range concurrencies {
			b.Run(fmt.Sprintf("%s/c=%d", a.Name, c), func(b *testing.B) {
				ch, err := a.New(st.Target)
				require.NoError(b, err)
				d, err := ch.Check(ctx, Repo(0)) // warm: connections and tokens
				require.NoError(b, err)
				require.Equal(b, st.Digest, d)
				st.ResetRequests()
				steady(b, ch, c, st.Requests)
			})
		}
	}
}

// steady times b.N checks of r000 by ch at concurrency c (c/GOMAXPROCS
// goroutines per processor above 1) and reports the registry requests per
// check that requests counts.
func steady(b *testing.B, ch Checker, c int, requests func() int64) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	if c == 1 {
		for range b.N {
			if _, err := ch.Check(ctx, Repo(0)); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(max(1, c/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ch.Check(ctx, Repo(0)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.StopTimer()
	b.ReportMetric(float64(requests())/float64(b.N), "req/op")
}

// TestStaticAgrees checks that every approach resolves the static
// registry's digest, so BenchmarkClient measures working clients.
func TestStaticAgrees(t *testing.T) {
	st := NewStatic()
	defer st.Close()
	for _, a := range Approaches() {
		ch, err := a.New(st.Target)
		require.NoError(t, err, a.Name)
		for range 2 {
			d, err := ch.Check(context.Background(), Repo(0))
			require.NoError(t, err, a.Name)
			assert.Equal(t, st.Digest, d, a.Name)
		}
	}
}

// TestRequestCounts runs the count scenarios for every approach and holds
// registrykit to its targets: one request in steady state, no probe where
// the flavor is known, one token per scope per lifetime.
func TestRequestCounts(t *testing.T) {
	ctx := context.Background()
	got := map[string]Counts{}
	for _, a := range Approaches() {
		c, err := MeasureCounts(ctx, a, t.TempDir())
		require.NoError(t, err, a.Name)
		got[a.Name] = c
		t.Logf("%-26s cold %d  steady %d  new repo %d  across expiry %d (%d refused)", a.Name, c.Cold, c.Steady, c.NewRepo, c.Expiry, c.ExpiryFailed)
	}
	for _, name := range []string{"registrykit-distribution", "registrykit-ghcr", "registrykit-gitea"} {
		c := got[name]
		assert.Equal(t, int64(1), c.Steady, name)
		assert.Zero(t, c.ExpiryFailed, "%s: no failed request at token expiry", name)
		assert.LessOrEqual(t, c.Expiry, int64(2), name)
	}
	assert.Equal(t, int64(3), got["registrykit-distribution"].Cold, "probe + token + HEAD")
	assert.Equal(t, int64(2), got["registrykit-ghcr"].Cold, "known realm: token + HEAD")
	assert.Equal(t, int64(2), got["registrykit-gitea"].Cold)
	assert.Equal(t, int64(1), got["registrykit-gitea"].NewRepo, "Gitea's token is not scoped")
	assert.Equal(t, int64(2), got["registrykit-ghcr"].NewRepo)
	// The peers, as their code behaves (and BENCHMARKS.md reports).
	assert.Equal(t, int64(3), got["ggcr-remote.Head"].Steady)
	assert.Equal(t, int64(2), got["old-code"].Steady)
	assert.Equal(t, int64(1), got["raw"].Steady)
}

// TestWatcherDay holds a day of watching nine images to its target: at most
// nine HEADs per interval plus the token requests the lifetimes require.
func TestWatcherDay(t *testing.T) {
	cases := map[registry.Flavor]int64{
		registry.FlavorGHCR:  0, // the PAT as a bearer token: no token request at all
		registry.FlavorGitea: 0, // Basic credentials on /v2/: no token request at all
		registry.FlavorECR:   3, // 12 h tokens refreshed at 9.6 h: 0 h, 9.6 h, 19.2 h
	}
	for flavor, tokens := range cases {
		t.Run(flavor.String(), func(t *testing.T) {
			if flavor == registry.FlavorECR {
				t.Setenv("AWS_CA_BUNDLE", "")
				t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			}
			r, err := SimulateDay(context.Background(), flavor)
			require.NoError(t, err)
			t.Logf("%s: %d HEAD (max %d per interval), %d token requests, %d refused", flavor, r.Heads, r.MaxHeads, r.Tokens, r.Rejected)
			assert.Equal(t, int64(9*24*12), r.Heads)
			assert.LessOrEqual(t, r.MaxHeads, int64(9))
			assert.Equal(t, tokens, r.Tokens)
			assert.Zero(t, r.Rejected)
		})
	}
}
