// Package bench measures registrykit's digest checks side by side with the
// approaches it replaces and the peer libraries, against the in-process
// CNCF distribution registry with token auth: requests per check (cold,
// steady, new repository, across a token expiry), time and allocations per
// check, and throughput at several concurrencies. cmd/benchreport turns the
// results into BENCHMARKS.md.
//
// RunNet (net_*.go) measures the same clients over TLS 1.3 and a simulated
// round trip, in round trips, requests, connections and handshakes; it runs
// only when asked (TestNetBench with REGISTRYKIT_NETBENCH=1, or
// benchreport -net), and TestNetSmoke checks its rig on every test run.
package bench
