package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNetSmoke runs the network rig once with a 2 ms round trip, on GHCR
// over HTTP/2 and Gitea over HTTP/1.1, with the watcher and the peers, and
// checks that it works and counts: not how fast anything is (a few seconds
// with -race; TestNetBench is the benchmark).
func TestNetSmoke(t *testing.T) {
	const rtt = 2 * time.Millisecond
	rep, err := RunNet(context.Background(), NetConfig{RTT: rtt, Runs: 1,
		Variants: []NetVariant{{NetGHCR, true}, {NetGitea, false}},
		Clients: []string{"registrykit watcher, PAT as bearer", "registrykit watcher, token service", "registrykit watcher",
			"ggcr Puller, 9 goroutines", "oras-go, 9 goroutines", "old code, one after another"},
	})
	require.NoError(t, err)
	require.Len(t, rep.Tables, 2)
	var md strings.Builder
	rep.WriteMarkdown(&md)
	assert.Contains(t, md.String(), "### GHCR-like, HTTP/2\n")
	assert.Contains(t, md.String(), "| registrykit watcher, PAT as bearer | **")
	for _, tab := range rep.Tables {
		nc, warm := tab.NewConn[0], tab.Warm[0]
		assert.Equal(t, NetCounts{Ping: 1, Conns: 1, Handshakes: 1}, nc.NetCounts, "%s: a new connection", tab.Variant)
		assert.Equal(t, NetCounts{Ping: 1}, warm.NetCounts, "%s: the same connection again", tab.Variant)
		// The delays are floors, whatever the machine's speed.
		assert.GreaterOrEqual(t, nc.RTTs, 3.0, "%s: dial, TLS and the request", tab.Variant)
		assert.GreaterOrEqual(t, warm.RTTs, 1.0, "%s: the request", tab.Variant)
		require.NotEmpty(t, tab.Rows)
		for _, row := range tab.Rows {
			name := tab.Variant.String() + ": " + row.Client.Name
			cold, warmTick, idle := row.Samples[NetCold][0], row.Samples[NetTickWarm][0], row.Samples[NetTickIdle][0]
			assert.Positive(t, cold.Conns, name)
			assert.Equal(t, cold.Conns, cold.Handshakes, name)
			assert.GreaterOrEqual(t, cold.RTTs, 3.0, name)
			assert.Zero(t, warmTick.Conns, "%s: a warm tick opens no connection", name)
			assert.GreaterOrEqual(t, warmTick.Head, int64(9), name)
			assert.Positive(t, idle.Conns, "%s: a tick after idle connects again", name)
			if strings.HasPrefix(row.Client.Name, "registrykit") {
				assert.Equal(t, int64(9), warmTick.Requests(), "%s: nine HEADs", name)
			}
		}
	}
}

// TestNetBench runs the network benchmark and prints its markdown table. It
// runs only with REGISTRYKIT_NETBENCH=1 (a few minutes):
//
//	cd internal/e2e && REGISTRYKIT_NETBENCH=1 go test -run=TestNetBench -v -timeout=30m ./bench/
//
// REGISTRYKIT_NETBENCH_RTT (default 40ms) and REGISTRYKIT_NETBENCH_RUNS
// (default 5) change the round trip and the runs; REGISTRYKIT_NETBENCH_OUT
// names a file to write the table to as well.
func TestNetBench(t *testing.T) {
	if os.Getenv("REGISTRYKIT_NETBENCH") != "1" {
		t.Skip("set REGISTRYKIT_NETBENCH=1 to run the network benchmark")
	}
	cfg := NetConfig{Progress: os.Stderr}
	if v := os.Getenv("REGISTRYKIT_NETBENCH_RTT"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "REGISTRYKIT_NETBENCH_RTT")
		cfg.RTT = d
	}
	if v := os.Getenv("REGISTRYKIT_NETBENCH_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "REGISTRYKIT_NETBENCH_RUNS")
		cfg.Runs = n
	}
	rep, err := RunNet(context.Background(), cfg)
	require.NoError(t, err)
	var b strings.Builder
	rep.WriteMarkdown(&b)
	os.Stdout.WriteString(b.String())
	if out := os.Getenv("REGISTRYKIT_NETBENCH_OUT"); out != "" {
		require.NoError(t, os.WriteFile(out, []byte(b.String()), 0o644))
	}
}
