# The portal's developer commands. `make run` starts a local portal with a
# demo site; `make test` is what CI runs (through .ci/run).

# Go on PATH, else where the machines keep it.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
# Tests use DATABASE_URL when it is set (see internal/dbtest), else the local
# trust-auth PostgreSQL at 127.0.0.1:5432.
TEST_TIMEOUT ?= 12m

.PHONY: all run build test test-deps fmt-check vet staticcheck go-test bench bench-scale rss clean

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
	@gofmt=$(dir $(GO))gofmt; [ -x "$$gofmt" ] || { echo "no gofmt beside $(GO)"; exit 1; }; \
	unformatted=$$($$gofmt -l $$(find . -name '*.go' -not -path './.git/*')) || exit 1; \
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

# The load generator's measurement (docs/PERFORMANCE.md); LOADGEN adds flags.
LOADGEN ?=

## bench: every benchmark (the steps of a sign-in, the pages, the media), then the load generator: sign-ins side by side with crewjam's ParseResponse and a minimal samlsp SP, the pages, and first sign-ins against existing users' in one run
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) test -count=1 -timeout 30m -v -run 'TestLoad|TestPages' ./internal/loadtest \
		-args -loadgen.requests 3000 -loadgen.page-requests 300 -loadgen.clients 32 $(LOADGEN)
	$(GO) test -count=1 -timeout 30m -v -run 'TestLoad$$' ./internal/loadtest \
		-args -loadgen.compare-first -loadgen.users 1000 -loadgen.requests 6000 -loadgen.clients 32 -loadgen.minimal-sp=false $(LOADGEN)

## bench-scale: the load generator on 10,000 sites, 1,000,000 users and 10,000,000 events (database portal_scale, seeded once with COPY: about 15 minutes)
bench-scale:
	$(GO) test -count=1 -timeout 60m -v -run 'TestLoad|TestPages' ./internal/loadtest \
		-args -loadgen.database portal_scale -loadgen.sites 10000 -loadgen.users 100 -loadgen.events 10000000 \
		-loadgen.requests 3000 -loadgen.page-requests 300 -loadgen.clients 32 -loadgen.minimal-sp=false $(LOADGEN)
	$(GO) test -count=1 -timeout 60m -v -run 'TestLoad$$' ./internal/loadtest \
		-args -loadgen.database portal_scale -loadgen.sites 10000 -loadgen.users 100 -loadgen.events 10000000 \
		-loadgen.compare-first -loadgen.requests 6000 -loadgen.clients 32 -loadgen.minimal-sp=false $(LOADGEN)

## rss: the portal's resident memory when up and idle; fails over RSS_LIMIT_MIB (40)
rss:
	./scripts/idle-rss.sh

clean:
	rm -rf bin
