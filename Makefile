# The portal's developer commands. `make run` starts a local portal with a
# demo site; `make test` is what CI runs (through .ci/run).

GO ?= go
# Tests use DATABASE_URL when it is set (see internal/dbtest), else the local
# trust-auth PostgreSQL at 127.0.0.1:5432.
TEST_TIMEOUT ?= 12m

.PHONY: all run build test fmt-check vet staticcheck go-test bench clean

all: build

## run: build, migrate, create the demo site acme, and serve with the development IdP
run:
	./scripts/dev-run.sh

## build: bin/portal
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/portal ./cmd/portal

## test: formatting, vet, staticcheck, then every test (with the fuzz seed corpora) under the race detector
test: fmt-check vet staticcheck go-test

fmt-check:
	@echo "== gofmt"
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$unformatted" ]; then \
		echo "these files need gofmt -w:"; echo "$$unformatted"; exit 1; \
	fi

vet:
	@echo "== go vet"
	$(GO) vet ./...

staticcheck:
	@echo "== staticcheck"
	$(GO) tool staticcheck ./...

go-test:
	@echo "== go test -race"
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

## bench: every benchmark, no tests
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
