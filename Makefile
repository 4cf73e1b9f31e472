# The project's commands. `make test` is the test command of the README and
# of CI: it installs the real Prometheus parts the tests use when missing.

GO       ?= go
BIN      := datarobot_license_exporter
PKG      := github.com/prometheus/common/version
VERSION  := $(shell cat VERSION)
REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH   := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Revision=$(REVISION) \
            -X $(PKG).Branch=$(BRANCH) -X $(PKG).BuildUser=$(shell id -un)@$(shell hostname) \
            -X $(PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: build test deps lint vulncheck fuzz soak demo generate bench clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# deps installs promtool, prometheus and alertmanager when they are missing.
deps:
	./scripts/install-test-deps.sh

STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.10.0
# The Go vulnerability database, as the golang.org/x/vulndb module holds it:
# govulncheck reads a local copy built from it, as no other source of it is
# reachable here. Move it forward to see newer advisories.
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

test: deps lint vulncheck
	DRLE_REQUIRE_TOOLS=1 $(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz

# vulncheck runs govulncheck on a database built from VULNDB_VERSION. It
# fails when the code calls a vulnerable function of a required module;
# advisories of the Go standard library are listed, as the machine's Go
# toolchain decides them.
vulncheck:
	@db=$$(mktemp -d) && \
	osv=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p')/data/osv && \
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$osv" -out "$$db/v1" && \
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db "file://$$db/v1" -format json ./... | $(GO) run ./tools/vulnreport; \
	rc=$$?; rm -rf "$$db"; exit $$rc

# fuzz runs each fuzz target for FUZZTIME; a panic or a broken invariant
# fails, and the input is saved under datarobot/testdata/fuzz. The budget
# is a count of inputs, not a duration: a duration races Go's fuzzing
# coordinator, which on a loaded machine can fail a target with a bare
# "context deadline exceeded" and no input at all. 250,000 inputs take
# about 15 s a target here; a slower machine takes longer and stays green.
FUZZTIME ?= 250000x
FUZZ_TARGETS := FuzzParseTimestamp FuzzDecodeClusterLicense FuzzDecodeVersion FuzzUpstreamMessage
fuzz:
	@for f in $(FUZZ_TARGETS); do \
		echo "fuzz $$f for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./datarobot/ || exit 1; \
	done

# generate writes alerts/prometheusrule.yaml from the rule file.
generate:
	$(GO) generate ./alerts

# soak runs the fault soak test for 100,000 scrapes instead of 10,000.
soak:
	DRLE_SOAK_SCRAPES=100000 $(GO) test -count=1 -timeout 60m -run TestSoakFaults -v ./e2e/

# demo runs the exporter on the built-in fake DataRobot API: see
# http://localhost:9918/metrics.
demo:
	./scripts/demo.sh

# bench measures the built exporter against the fake API (tools/bench), then
# the collector, the decoder and a whole in-process scrape with Go's
# benchmark harness. It prints every figure, and fails if a goal is missed.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./collector/ ./datarobot/ ./server/
	$(GO) run ./tools/bench

clean:
	rm -f $(BIN) fake-datarobot-api
