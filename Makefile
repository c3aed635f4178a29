# One command runs every check CI runs: `make check`.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
GOBIN ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck

.PHONY: check fmt vet staticcheck tidy test test-short bench build resilience soak fuzz bench-explorer-devnet bench-s3-peers testbed bench-quilt quilt-vectors bench-sites bench-recovery bench-overhead bench-peers challenges

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

# The full-size wide-area testbed (docs/testbed.md): 4 validators, 30 storage nodes over
# 1000 shards, 2 clients, in network namespaces (as root; on loopback otherwise).
# TESTBED_MATRIX names a latency matrix file.
testbed:
	WALRUS_TESTBED=full WALRUS_TESTBED_MATRIX=$(TESTBED_MATRIX) $(GO) test -count=1 -timeout 3h -run 'TestTestbed' -v ./internal/testbed/

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

# Walrus Sites: deploy of a 200-file site and the index page through the portal on a
# 100-shard devnet (docs/sites.md).
bench-sites:
	WALRUS_SITES_BENCH=1 $(GO) test -count=1 -timeout 30m -run 'TestSitesBench' -v ./internal/devnet/

# restic and rclone through the S3 gateway (on a devnet) against MinIO on this machine
# (docs/performance-vs-peers.md); installs MinIO with go install if none is on PATH. Not in CI.
bench-s3-peers:
	bench/s3-peers.sh

# Quilts (docs/quilts.md): reading one 10 KiB patch of a 600-file quilt on 1000 shards, and
# 600 files of 10 KiB stored as one quilt against 600 blobs. CI runs small versions.
bench-quilt:
	WALRUS_QUILT_FULL=1 $(GO) test -count=1 -timeout 30m -run 'TestQuiltReadFetchesOnlyPatchColumns' -v ./internal/client/
	WALRUS_QUILT_BENCH_FILES=600 WALRUS_QUILT_BENCH_SHARDS=1000 $(GO) test -count=1 -timeout 2h -run 'TestQuiltVersusBlobs' -v ./internal/client/

# Quilt vectors from Mysten's TypeScript SDK (needs node and npm; see internal/quilt/testdata/genvectors.mjs).
quilt-vectors:
	tmp=$$(mktemp -d) && cp internal/sdkcompat/js/package.json internal/sdkcompat/js/package-lock.json internal/quilt/testdata/genvectors.mjs $$tmp && \
	(cd $$tmp && npm ci --no-audit --no-fund >/dev/null && node genvectors.mjs) > internal/quilt/testdata/vectors.json && rm -rf $$tmp
# Recovery bandwidth at Walrus's scale: 1000 shards, 10 node processes, blobs of 20 MB and
# 100 MB; a node loses its disk and rebuilds (docs/performance.md). Not in CI.
bench-recovery:
	WALRUS_RECOVERY_SCALE=1 $(GO) test -count=1 -timeout 3h -run 'TestRecoveryScale' -v ./internal/storagenode/daemon/
# Per-blob overhead at Walrus's scale: a 1 KB and a 100 MB blob on 10 node processes, 1000 shards; stored vs billed bytes.
bench-overhead:
	WALRUS_OVERHEAD_SCALE=1 $(GO) test -count=1 -timeout 3h -run 'TestStoredOverhead' -v ./internal/storagenode/daemon/
# Store and read against MinIO and SeaweedFS; installs both into a cache directory on the
# first run and rewrites docs/performance-vs-peers.md (bash bench/peers.sh --quick: 3 rounds).
bench-peers:
	bash bench/peers.sh
