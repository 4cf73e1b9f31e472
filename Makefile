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

.PHONY: build test deps lint fuzz demo generate bench clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# deps installs promtool, prometheus and alertmanager when they are missing.
deps:
	./scripts/install-test-deps.sh

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

test: deps lint
	DRLE_REQUIRE_TOOLS=1 $(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz

# fuzz runs each fuzz target for FUZZTIME; a panic or a broken invariant
# fails, and the input is saved under datarobot/testdata/fuzz.
FUZZTIME ?= 20s
FUZZ_TARGETS := FuzzParseTimestamp FuzzDecodeClusterLicense FuzzDecodeVersion FuzzUpstreamMessage
fuzz:
	@for f in $(FUZZ_TARGETS); do \
		echo "fuzz $$f for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./datarobot/ || exit 1; \
	done

# generate writes alerts/prometheusrule.yaml from the rule file.
generate:
	$(GO) generate ./alerts

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
