# The portal's developer commands. `make run` starts a local portal with a
# demo site; `make test` is what CI runs (through .ci/run).

# Go on PATH, else where the machines keep it.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
# Tests use DATABASE_URL when it is set (see internal/dbtest), else the local
# trust-auth PostgreSQL at 127.0.0.1:5432.
TEST_TIMEOUT ?= 12m

.PHONY: all run build test test-deps fmt-check vet staticcheck go-test bench rss clean

all: build

## run: build, migrate, create the demo site acme, and serve with the development IdP; ends with a box of addresses and passwords
run:
	./scripts/dev-run.sh

## build: bin/portal
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/portal ./cmd/portal

## test: what the tests need (installed if missing), formatting, vet, staticcheck, then every test (with the fuzz seed corpora) under the race detector
test: test-deps fmt-check vet staticcheck go-test

## test-deps: check for PostgreSQL, chromium, python3-pysaml2, xmlsec1, python3-icalendar and gcc; install what is missing (root or sudo) or say what to run
test-deps:
	@./scripts/test-deps.sh

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

## rss: the portal's resident memory when up and idle; fails over RSS_LIMIT_MIB (40)
rss:
	./scripts/idle-rss.sh

clean:
	rm -rf bin
