# agent-bridge: one Go binary, no cgo (modernc.org/sqlite is pure Go).

GO      ?= go
BIN     := bin/agent-bridge
PKGS    := ./...
# Arguments for `make run`, e.g. make run ARGS="--db ./bridge.db".
ARGS    ?=

# Release builds: version from git, no paths or build ids in the binary,
# symbols stripped, no cgo; the same commit gives the same bytes.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -buildid= -X main.version=$(VERSION)
DIST    := dist
# Every platform a developer uses; .ci/run cross-compiles the same list.
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

.PHONY: all build install dist print-platforms run test bench fuzz vet fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/agent-bridge

# Installs agent-bridge into $(go env GOBIN), else $(go env GOPATH)/bin
# (~/go/bin): the MCP client configurations call a bare `agent-bridge`, so
# that directory must be on PATH.
install:
	$(GO) install -trimpath -ldflags '-X main.version=$(VERSION)' ./cmd/agent-bridge
	@bin=$$($(GO) env GOBIN); [ -n "$$bin" ] || bin=$$($(GO) env GOPATH)/bin; \
	echo "installed $$bin/agent-bridge"; \
	case ":$$PATH:" in *":$$bin:"*) ;; *) echo "$$bin is not on your PATH: add it, e.g. export PATH=\"$$bin:\$$PATH\" in your shell profile";; esac

# dist/agent-bridge_$(VERSION)_OS_ARCH[.exe] for every platform, and
# dist/SHA256SUMS.
dist:
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		out=$(DIST)/agent-bridge_$(VERSION)_$${os}_$${arch}$$ext; \
		echo "build $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)' -o $$out ./cmd/agent-bridge || exit 1; \
	done
	@cd $(DIST) && sha256sum agent-bridge_* > SHA256SUMS && cat SHA256SUMS

# Builds, then serves MCP over stdio (what an MCP client launches). Silent
# on stdout, which belongs to the protocol: build output goes to stderr.
# By hand: agent-bridge waits for MCP frames on stdin; Ctrl-D stops it.
run:
	@$(GO) build -o $(BIN) ./cmd/agent-bridge 1>&2
	@exec ./$(BIN) $(ARGS)

print-platforms:
	@echo $(PLATFORMS)

# Vet, format check, then every test with the race detector. Fuzz targets
# run their seed corpora here; `make fuzz` explores further.
# Prints one line per skipped suite with its reason (PostgreSQL without
# AGENT_BRIDGE_TEST_POSTGRES, sandbox without bubblewrap) and a count.
test: vet
	@out=$$(gofmt -l cmd internal .ci); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@echo "make test: every test with -race; about 9 minutes from a cold build cache, 2 to 3 with a warm one."
	@$(GO) build -o /dev/null ./.ci/testsum
	@rc=0; st=$$(mktemp); \
	{ $(GO) test -json -race -count=1 -timeout 20m $(PKGS); echo $$? > $$st; } | $(GO) run ./.ci/testsum || rc=1; \
	[ "$$(cat $$st)" = 0 ] || rc=1; rm -f $$st; exit $$rc

vet:
	$(GO) vet $(PKGS)

# Benchmarks, a few minutes; compare runs with benchstat (BENCHCOUNT=6).
# The micro benchmarks first; then issue 14's ratios, each measured in one
# run (send/floor, send/same-work, backlog/empty, backlog/page), and the loads of N stdio
# processes on one SQLite file (WaitingAgents: msg/s, send p50/p99 and CPU
# per message for N = 2, 10, 50, 100, waiting and idle; StatusAgents), at a
# fixed number of iterations.
BENCHCOUNT ?= 1
SCALE_BENCH := WaitingAgents|StatusAgents|SendRatio|Backlog
bench:
	$(GO) test -run '^$$' -bench . -skip '$(SCALE_BENCH)' -benchmem -count $(BENCHCOUNT) -timeout 30m $(PKGS)
	$(GO) test -run '^$$' -bench 'SendRatio|Backlog' -benchtime 300x -count $(BENCHCOUNT) -timeout 30m ./internal/mcpserver
	$(GO) test -run '^$$' -bench 'WaitingAgents|StatusAgents' -benchtime 50x -count $(BENCHCOUNT) -timeout 30m ./cmd/agent-bridge

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzToolArguments -fuzztime $(FUZZTIME) ./internal/mcpserver
	$(GO) test -run '^$$' -fuzz FuzzRedact -fuzztime $(FUZZTIME) ./internal/redact
	$(GO) test -run '^$$' -fuzz 'FuzzCheck$$' -fuzztime $(FUZZTIME) ./internal/yolo
	$(GO) test -run '^$$' -fuzz FuzzNesting -fuzztime $(FUZZTIME) ./internal/yolo

fmt:
	gofmt -w cmd internal

clean:
	rm -rf bin $(DIST)
