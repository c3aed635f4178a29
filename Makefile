# One command runs every check CI runs: `make check`.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
GOBIN ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck

.PHONY: check fmt vet staticcheck tidy test test-short bench build resilience challenges soak fuzz bench-explorer-devnet bench-s3-peers

check: fmt vet staticcheck tidy test

build:
	$(GO) build ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

tidy:
	$(GO) mod tidy -diff

test:
	$(GO) test -race -timeout 30m ./...
	$(GO) test -count=1 -timeout 30m -run 'Vectors' ./internal/...
	$(MAKE) resilience

# Storage challenges on a network of processes for 10 challenged epochs (docs/challenges.md).
challenges:
	$(GO) test -count=1 -timeout 30m -run 'TestChallenges' -v ./internal/resilience/ -args -challenge-epochs=10

# The fault-injection suite (CI subset): prints the scenario table (docs/resilience.md).
resilience:
	$(GO) test -count=1 -timeout 20m -run 'TestResilience|TestChallenges' -v ./internal/resilience/

# Longer runs: the suite with larger blobs and three rounds, then every fuzz target for
# FUZZTIME each. Only a failing input (written to testdata/fuzz) fails it: Go's fuzz
# engine sometimes ends a run with "context deadline exceeded" and nothing found.
FUZZTIME ?= 30s
soak:
	WALRUS_SOAK=1 $(GO) test -count=1 -timeout 2h -run 'TestResilience' -v ./internal/resilience/
	$(MAKE) fuzz

fuzz:
	@fail=0; for pkg in $$($(GO) list ./internal/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    out=$$($(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); \
	    if [ $$? -ne 0 ]; then \
	      echo "$$out" | tail -n 20; \
	      if echo "$$out" | grep -q 'Failing input written to'; then fail=1; \
	      else echo "  (the fuzz engine stopped without a failing input; not counted)"; fi; \
	    fi; \
	  done; \
	done; exit $$fail

test-short:
	$(GO) test -short ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

# Explorer page latency on a devnet of real processes holding 10,000 blobs (docs/metrics.md).
bench-explorer-devnet:
	$(GO) test -tags devnetbench -count=1 -timeout 2h -run 'TestDevnetPageLatency' -v ./internal/explorer/

# restic and rclone through the S3 gateway (on a devnet) against MinIO on this machine
# (docs/performance-vs-peers.md); installs MinIO with go install if none is on PATH. Not in CI.
bench-s3-peers:
	bench/s3-peers.sh
