# agent-bridge: one Go binary, no cgo (modernc.org/sqlite is pure Go).

GO      ?= go
BIN     := bin/agent-bridge
PKGS    := ./...
# Arguments for `make run`, e.g. make run ARGS="--db ./bridge.db".
ARGS    ?=

.PHONY: all build run test bench fuzz vet fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/agent-bridge

# Builds, then serves MCP over stdio (what an MCP client launches). Silent
# on stdout, which belongs to the protocol: build output goes to stderr.
# By hand: agent-bridge waits for MCP frames on stdin; Ctrl-D stops it.
run:
	@$(GO) build -o $(BIN) ./cmd/agent-bridge 1>&2
	@exec ./$(BIN) $(ARGS)

# Vet, format check, then every test with the race detector. Fuzz targets
# run their seed corpora here; `make fuzz` explores further.
test: vet
	@out=$$(gofmt -l cmd internal); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

# Benchmarks; compare runs with benchstat.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 -timeout 30m $(PKGS)

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzToolArguments -fuzztime $(FUZZTIME) ./internal/mcpserver
	$(GO) test -run '^$$' -fuzz FuzzRedact -fuzztime $(FUZZTIME) ./internal/redact
	$(GO) test -run '^$$' -fuzz 'FuzzCheck$$' -fuzztime $(FUZZTIME) ./internal/yolo
	$(GO) test -run '^$$' -fuzz FuzzNesting -fuzztime $(FUZZTIME) ./internal/yolo

fmt:
	gofmt -w cmd internal

clean:
	rm -rf bin
