// Package bench measures registrykit's digest checks side by side with the
// approaches it replaces and the peer libraries, against the in-process
// CNCF distribution registry with token auth: requests per check (cold,
// steady, new repository, across a token expiry), time and allocations per
// check, and throughput at several concurrencies. cmd/benchreport turns the
// results into BENCHMARKS.md.
package bench
