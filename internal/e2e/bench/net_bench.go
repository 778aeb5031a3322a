package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// NetScenario is one measured step of the network benchmark.
type NetScenario int

// The scenarios, in the order each run performs them on one fresh client.
const (
	// NetCold is the first check of one image by a new client.
	NetCold NetScenario = iota
	// NetSteady is the same check again.
	NetSteady
	// NetTickWarm is a tick of the nine images after a tick that warmed
	// connections and tokens.
	NetTickWarm
	// NetTickIdle is a tick after the transport's idle connections were
	// closed, as five idle minutes do; tokens are still valid (no clock
	// moves).
	NetTickIdle
	// NetTickExpired is a tick after idle connections were closed and the
	// registry's and registrykit's clocks moved past the tokens' life
	// (GHCR: 5 minutes, past 60 s; Gitea: 24 h 5 min).
	NetTickExpired
	netScenarios
)

var netScenarioNames = [netScenarios]string{"cold check", "steady check", "tick: warm", "tick: after idle", "tick: after idle, tokens expired"}

func (s NetScenario) String() string { return netScenarioNames[s] }

// Floor is the fewest round trips the scenario can take: TCP's handshake,
// TLS 1.3's, a token request where one is needed, and the HEAD. A client
// that sent no token request needed none (a GHCR PAT sent as the bearer
// token; Basic credentials, which Gitea takes on /v2/).
func (s NetScenario) Floor(noToken bool) float64 {
	switch s {
	case NetCold, NetTickExpired:
		if noToken {
			return 3
		}
		return 4
	case NetTickIdle:
		return 3
	default:
		return 1
	}
}

// NetSample is one measurement: the time in round trips and the counts.
type NetSample struct {
	RTTs float64
	NetCounts
}

// NetMedian is the medians of a scenario's samples.
type NetMedian struct {
	RTTs, Requests, Conns, Handshakes float64
	Tokens                            float64
}

// NetRow is one client's samples on one variant.
type NetRow struct {
	Client  NetClient
	Samples [netScenarios][]NetSample
}

// Median returns the medians of scenario s.
func (r NetRow) Median(s NetScenario) NetMedian { return medianOf(r.Samples[s]) }

// Floor returns scenario s's floor for this client: lower when its median
// run sent no token request.
func (r NetRow) Floor(s NetScenario) float64 { return s.Floor(r.Median(s).Tokens == 0) }

func medianOf(ss []NetSample) NetMedian {
	pick := func(f func(NetSample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		return medianFloat(v)
	}
	return NetMedian{
		RTTs:       pick(func(s NetSample) float64 { return s.RTTs }),
		Requests:   pick(func(s NetSample) float64 { return float64(s.Requests()) }),
		Conns:      pick(func(s NetSample) float64 { return float64(s.Conns) }),
		Handshakes: pick(func(s NetSample) float64 { return float64(s.Handshakes) }),
		Tokens:     pick(func(s NetSample) float64 { return float64(s.Token) }),
	}
}

func medianFloat(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// NetTable is one variant's results.
type NetTable struct {
	Variant NetVariant
	// NewConn and Warm calibrate the rig: a plain GET /v2/ on a new
	// connection and on the same connection again.
	NewConn, Warm []NetSample
	Rows          []NetRow
}

// NetReport is the network benchmark's results.
type NetReport struct {
	RTT    time.Duration
	Runs   int
	Tables []NetTable
}

// NetConfig configures RunNet.
type NetConfig struct {
	RTT  time.Duration // default 40 ms
	Runs int           // default 5
	// Variants and Clients restrict what runs (default: everything);
	// Clients names NetClient.Name values.
	Variants []NetVariant
	Clients  []string
	// Progress, when set, gets a line per client run.
	Progress io.Writer
}

// RunNet runs the network benchmark: for every variant, Runs rounds of a
// calibration and, for every client on a fresh registry, the scenarios in
// order.
func RunNet(ctx context.Context, cfg NetConfig) (*NetReport, error) {
	if cfg.RTT == 0 {
		cfg.RTT = 40 * time.Millisecond
	}
	if cfg.Runs == 0 {
		cfg.Runs = 5
	}
	if cfg.Variants == nil {
		cfg.Variants = NetVariants()
	}
	rep := &NetReport{RTT: cfg.RTT, Runs: cfg.Runs}
	for _, v := range cfg.Variants {
		tab := NetTable{Variant: v}
		for _, c := range NetClients() {
			if c.runsOn(v.Flavor) && (cfg.Clients == nil || slices.Contains(cfg.Clients, c.Name)) {
				tab.Rows = append(tab.Rows, NetRow{Client: c})
			}
		}
		for run := range cfg.Runs {
			nc, warm, err := calibrate(ctx, v, cfg.RTT)
			if err != nil {
				return nil, fmt.Errorf("%s: calibration: %w", v, err)
			}
			tab.NewConn, tab.Warm = append(tab.NewConn, nc), append(tab.Warm, warm)
			for i := range tab.Rows {
				row := &tab.Rows[i]
				start := time.Now()
				ss, err := runNetClient(ctx, v, cfg.RTT, row.Client)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", v, row.Client.Name, err)
				}
				for s := range netScenarios {
					row.Samples[s] = append(row.Samples[s], ss[s])
				}
				if cfg.Progress != nil {
					fmt.Fprintf(cfg.Progress, "netbench: %s: run %d/%d: %s (%s)\n", v, run+1, cfg.Runs, row.Client.Name, time.Since(start).Round(time.Millisecond))
				}
			}
		}
		rep.Tables = append(rep.Tables, tab)
	}
	return rep, nil
}

// measure runs f between a reset of r's counters and their reading.
func measure(r *NetRegistry, f func() error) (NetSample, error) {
	r.Reset()
	start := time.Now()
	err := f()
	el := time.Since(start)
	return NetSample{RTTs: float64(el) / float64(r.RTT), NetCounts: r.Counts()}, err
}

func stepContext(ctx context.Context, rtt time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 30*time.Second+200*rtt)
}

// calibrate times a plain GET /v2/ on a new connection, then again on it.
func calibrate(ctx context.Context, v NetVariant, rtt time.Duration) (newConn, warm NetSample, err error) {
	r, err := StartNetRegistry(v, rtt)
	if err != nil {
		return newConn, warm, err
	}
	defer r.Close()
	tr := r.Transport()
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func() error {
		ctx, cancel := stepContext(ctx, rtt)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+r.Host+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if h2 := resp.ProtoMajor == 2; h2 != v.HTTP2 {
			return fmt.Errorf("the front answered over %s", resp.Proto)
		}
		return resp.Body.Close()
	}
	if newConn, err = measure(r, get); err != nil {
		return newConn, warm, err
	}
	warm, err = measure(r, get)
	return newConn, warm, err
}

// runNetClient runs the scenarios once with a new client on a new registry.
func runNetClient(ctx context.Context, v NetVariant, rtt time.Duration, nc NetClient) ([netScenarios]NetSample, error) {
	var out [netScenarios]NetSample
	r, err := StartNetRegistry(v, rtt)
	if err != nil {
		return out, err
	}
	defer r.Close()
	c, err := nc.new(r)
	if err != nil {
		return out, err
	}
	defer c.CloseIdle()
	repo := r.Repos[0]
	one := func() error {
		ctx, cancel := stepContext(ctx, rtt)
		defer cancel()
		return checkDigest(ctx, r, repo, c.One)
	}
	tick := func() error {
		ctx, cancel := stepContext(ctx, rtt)
		defer cancel()
		return c.Tick(ctx)
	}
	expire := 5 * time.Minute // GHCR's tokens live 60 s
	if v.Flavor == NetGitea {
		expire = 24*time.Hour + 5*time.Minute
	}
	// Idle: the client closes its idle connections and the server the
	// rest. Closing the client's transport alone is not enough: registrykit
	// wraps the *http.Transport it is given and sends to an HTTP/2 host
	// through its own clone of it.
	idle := func() error {
		c.CloseIdle()
		return r.DropConnections()
	}
	steps := []struct {
		s      NetScenario
		before func() error
		f      func() error
	}{
		{NetCold, nil, one},
		{NetSteady, nil, one},
		{-1, nil, tick}, // warms every image's connection and token; not reported
		{NetTickWarm, nil, tick},
		{NetTickIdle, idle, tick},
		{NetTickExpired, func() error { r.Clock.Advance(expire); return idle() }, tick},
	}
	for _, st := range steps {
		if st.before != nil {
			if err := st.before(); err != nil {
				return out, err
			}
		}
		sample, err := measure(r, st.f)
		if err != nil {
			name := "warm-up tick"
			if st.s >= 0 {
				name = st.s.String()
			}
			return out, fmt.Errorf("%s: %w", name, err)
		}
		if st.s >= 0 {
			out[st.s] = sample
		}
	}
	return out, nil
}

// WriteMarkdown writes the report as a markdown section (level-2 heading).
func (rep *NetReport) WriteMarkdown(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## Over a network: %s round trip, TLS 1.3\n\n", rep.RTT)
	p("Generated by `REGISTRYKIT_NETBENCH=1 go test -run=TestNetBench -v ./bench/` (in `internal/e2e`), or `go run ./bench/cmd/benchreport -net`; medians of %d runs.\n\n", rep.Runs)
	p("Each registry is `registrytest`'s imitation (GHCR: scoped tokens without `expires_in`, 60 s, and a token service that reads only the first of several scopes, as the imitation assumes where ghcr.io's documentation is silent; GHCR every scope: the same with a token service that reads every scope of a request, as the distribution token spec allows and GitLab, Harbor and Quay do, so that a watcher's tick asks one token for its nine images; Gitea: one 24 h JWT for every repository) behind a TLS 1.3 front, served over HTTP/2 or over HTTP/1.1 only, ")
	p("behind a loopback proxy that delays each direction's bytes by %s; dialing costs one more round trip, as TCP's handshake does. ", rep.RTT/2)
	p("The front counts requests, new TCP connections and TLS handshakes. Every client gets a fresh registry and a fresh keep-alive transport (HTTP/2 when offered, no TLS session resumption; registrykit's is its default, `engine.NewTransport` — Go's `http.Transport`, tuned, with a TLS session cache — over the same dialer, so its reconnections resume) and runs, in order: ")
	p("a **cold check** of one image; the same **steady check**; a warm-up tick of the nine runtime images (not reported); a **warm tick**; a **tick after idle** (tokens still valid); ")
	p("a **tick after idle with expired tokens** (the registry's clock — shared with registrykit's, `registry.Options.Clock` — moved 5 minutes for GHCR, 24 h 5 min for Gitea). ")
	p("Idle means every connection ended, as five idle minutes end them (the client's `IdleConnTimeout`, or the server's): the client's transport closes its idle connections, the server closes the rest, and the tick starts once the client has closed its end of each. ")
	p("The peers keep their own time and find out about expiry from a 401.\n\n")
	p("**Connections.** registrykit runs on Go's `http.Transport`, tuned, and depends on none of net/http's unexported behaviour. After an idle gap each waiting check of a tick dials its own connection, so a tick to an HTTP/2 registry opens nine connections (with resumed handshakes) where the earlier custom transport, which dialed TLS itself and parked connections, opened one; that transport measured +0.15 to +0.18 round trips for the HTTP/2 tick after idle and +0.16 to +0.25 with expired tokens (the report of 2026-11-28), the tables above give what the tuned transport costs. In exchange a host that stalls its handshakes fails every waiting check at one handshake timeout (five requests took 15 s at a 3 s timeout). On a registry known to answer over HTTP/1.1, the backend's own transport dials the TCP connections a tick's checks lack while the tick's one token request is in flight (through `http.Transport`'s public `DialContext` hook; TLS, HTTP/2 and the pool stay net/http's): the HTTP/1.1 tick after idle with expired tokens on a multi-scope token service measured +2.41 round trips before it (the GHCR-like, every scope, HTTP/1.1 table gives it now), with 10 requests where go-containerregistry and oras-go send 27. The TLS handshakes still follow the token; dialing them ahead too would mean owning TLS again.\n\n")
	p("Clients: registrykit's `watch.Watcher` (`w.Check` is one tick) and registrykit with one goroutine per image calling `ManifestDigest`; on GHCR both with the PAT sent as the bearer token (the default) and with `ghcr.Config{TokenService: true}`; ")
	p("a reused go-containerregistry `remote.Puller` and oras-go v2 `Repository.Resolve` with its token cache, one goroutine per image; the old code (a token request before every HEAD) with one goroutine per image and one image after another, as a loop over the runtimes does.\n\n")
	p("**Floors**, in round trips: cold check 4 (TCP, TLS, token, HEAD; 3 when no token is needed); steady check 1; tick of 9: warm 1, after idle 3, after idle with expired tokens 4 (3 when no token is needed). ")
	p("A client that sent no token request in a scenario is held to the lower floor: registrykit with a GHCR PAT sent as the bearer token, and every client on Gitea, which takes Basic credentials on `/v2/` (registrykit's Gitea driver sends them by default).\n\n")
	p("Each cell: **time in round trips** (distance from the floor) · requests · new TCP connections / TLS handshakes. A handshake still under way when a step ends is counted in that step.\n\n")
	for _, t := range rep.Tables {
		nc, warm := medianOf(t.NewConn), medianOf(t.Warm)
		p("### %s\n\n", t.Variant)
		p("Calibration, a plain `GET /v2/`: on a new connection %.2f round trips (%s connection, %s handshake), again on it %.2f (%s connections).\n\n",
			nc.RTTs, fmtCount(nc.Conns), fmtCount(nc.Handshakes), warm.RTTs, fmtCount(warm.Conns))
		p("| client |")
		for s := range netScenarios {
			p(" %s |", s)
		}
		p("\n|---|")
		for range netScenarios {
			p("---|")
		}
		p("\n| *floor* |")
		for s := range netScenarios {
			if s.Floor(true) != s.Floor(false) {
				p(" *%.0f (%.0f without token)* |", s.Floor(false), s.Floor(true))
			} else {
				p(" *%.0f* |", s.Floor(false))
			}
		}
		p("\n")
		for _, row := range t.Rows {
			p("| %s |", row.Client.Name)
			for s := range netScenarios {
				m := row.Median(s)
				p(" **%.2f** (%+.2f) · %s · %s/%s |", m.RTTs, m.RTTs-row.Floor(s), fmtCount(m.Requests), fmtCount(m.Conns), fmtCount(m.Handshakes))
			}
			p("\n")
		}
		p("\n")
	}
	if far := rep.FarFromFloor(0.5); len(far) > 0 {
		p("registrykit more than half a round trip above the floor (medians; requests, new connections/handshakes):\n\n")
		for _, f := range far {
			p("- %s\n", f)
		}
		p("\n")
	} else {
		p("registrykit is within half a round trip of the floor everywhere.\n\n")
	}
}

// FarFromFloor lists, one line per variant and registrykit client, the
// scenarios whose median is more than slack round trips above the floor.
func (rep *NetReport) FarFromFloor(slack float64) []string {
	var out []string
	for _, t := range rep.Tables {
		for _, row := range t.Rows {
			if !strings.HasPrefix(row.Client.Name, "registrykit") {
				continue
			}
			var far []string
			for s := range netScenarios {
				m := row.Median(s)
				if d := m.RTTs - row.Floor(s); d > slack {
					far = append(far, fmt.Sprintf("%s %.2f (+%.2f; %s req, %s/%s)", s, m.RTTs, d, fmtCount(m.Requests), fmtCount(m.Conns), fmtCount(m.Handshakes)))
				}
			}
			if len(far) > 0 {
				out = append(out, fmt.Sprintf("%s, %s: %s", t.Variant, row.Client.Name, strings.Join(far, "; ")))
			}
		}
	}
	return out
}

func fmtCount(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}
