# Every Go module of the repository: the library, the examples, the
# end-to-end suite (with the benchmarks) and the consumer-compatibility module.
MODULES := . $(patsubst %/go.mod,%,$(shell find internal examples -name go.mod 2>/dev/null | sort))
# The consumer-compatibility module is built with the oldest Go a consumer
# may use (fetched through the module proxy like any module).
CONSUMER_GO := go1.25.0
toolchain = $(if $(filter internal/consumercompat,$(1)),$(CONSUMER_GO),local)
STATICCHECK_VERSION := v0.8.2
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da
FUZZTIME ?= 60s
BENCHCOUNT ?= 6

.PHONY: test demo check fuzz bench api

## test: every test of every module, with the race detector.
test:
	@set -e; $(foreach m,$(MODULES),echo "== go test -race $(m) (toolchain $(call toolchain,$(m)))"; (cd $(m) && GOTOOLCHAIN=$(call toolchain,$(m)) go test -race -count=1 ./...);)

## demo: the offline demo against an in-process registry.
demo:
	go -C examples run ./registryctl demo

## check: formatting, vet and staticcheck in every module.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	@command -v staticcheck >/dev/null || go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@set -e; $(foreach m,$(MODULES),echo "== tidy + vet + staticcheck $(m)"; (cd $(m) && export GOTOOLCHAIN=$(call toolchain,$(m)) && go mod tidy -diff && go vet ./... && PATH="$$PATH:$$(go env GOPATH)/bin" staticcheck ./...);)

## api: regenerate api/registrykit.txt, the listing of the public API the tests compare with the code.
api:
	go run ./internal/apilist -w

## fuzz: run each fuzz target for FUZZTIME, in its own module; new findings land in testdata/fuzz.
fuzz:
	@set -e; for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$pkg/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== $$pkg $$f"; (cd $$pkg && go test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) .); done; done

## bench: the benchmark suite against the peers and the network benchmark (TLS 1.3, 40 ms RTT), then BENCHMARKS.md from their results.
bench:
	cd internal/e2e && go test -run='^$$' -bench=. -benchmem -count=$(BENCHCOUNT) -timeout=60m ./bench/ | tee ../../bench.out
	go run golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION) bench.out > benchstat.out
	cd internal/e2e && go run ./bench/cmd/benchreport -net -bench ../../bench.out -benchstat ../../benchstat.out > ../../BENCHMARKS.md
