# Every Go module of the repository: the library and the end-to-end suite.
MODULES := . $(patsubst %/go.mod,%,$(shell find internal examples -name go.mod 2>/dev/null))
STATICCHECK_VERSION := v0.8.2
FUZZTIME ?= 60s

.PHONY: test demo check fuzz bench

## test: every test of every module, with the race detector.
test:
	@set -e; for m in $(MODULES); do echo "== go test -race $$m"; (cd $$m && go test -race -count=1 ./...); done

## demo: the offline demo against an in-process registry.
demo:
	go run ./examples/registryctl demo

## check: formatting, vet and staticcheck in every module.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	@command -v staticcheck >/dev/null || go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@set -e; for m in $(MODULES); do echo "== vet + staticcheck $$m"; (cd $$m && go vet ./... && PATH="$$PATH:$$(go env GOPATH)/bin" staticcheck ./...); done

## fuzz: run each fuzz target for FUZZTIME; new findings land in testdata/fuzz.
fuzz:
	@set -e; for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$pkg/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== $$pkg $$f"; go test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; done; done
