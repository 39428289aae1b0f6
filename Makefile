# Meshwarden. `make deps` installs what building, testing and the demo need on a Debian node.
GO ?= go
BIN := bin/meshwarden
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: all deps build generate check-generate vet test demo bench fuzz clean agentleak

all: build

deps:
	@command -v apt-get >/dev/null || { echo "make deps needs apt-get (Debian/Ubuntu)"; exit 1; }
	@if ! command -v clang-14 >/dev/null || ! command -v redis-server >/dev/null || ! command -v curl >/dev/null || ! command -v promtool >/dev/null || ! command -v nginx >/dev/null || ! [ -f /usr/include/bpf/bpf_helpers.h ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			clang-14 llvm-14 libbpf-dev redis-server curl python3 prometheus nginx-light >/dev/null; \
	fi
	@mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	$(GO) mod download
	@# The Node SDK peers of test/node_sdk_test.go, from the committed lock file; skipped when the
	@# installed tree is newer than the lock file, or when node/npm are absent (those tests then fail).
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
		if [ test/agents/node/node_modules/.package-lock.json -nt test/agents/node/package-lock.json ] && \
		   [ test/agents/node/node_modules/.package-lock.json -nt test/agents/node/package.json ]; then :; else \
			npm ci --prefix test/agents/node --no-audit --no-fund --loglevel=error; \
		fi; \
	else echo "make deps: node/npm not found: the Node SDK tests (test/node_sdk_test.go) need Node.js 20 and npm"; fi

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/meshwarden

# Rebuild the eBPF objects and their Go bindings (needs clang-14 and libbpf-dev).
generate:
	$(GO) generate ./loader

# Fails when the committed eBPF objects are not what the sources compile to.
check-generate: generate
	@git diff --exit-code --stat -- loader/ || { echo "generated eBPF files are stale: run make generate and commit"; exit 1; }

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '_bpfel.go$$'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

# Every test, privileged ones included (root, cgroup v2, bpffs): nothing is skipped.
test: vet check-generate
	$(GO) test -count=1 -timeout 20m ./...

demo: build
	./$(BIN) demo

bench: build
	$(GO) run ./test/bench

# The AgentLeak replay (issue 5, root): every scenario of the development split through the real
# daemon, FULL_MESH then OUTPUT_ONLY; the results tables go to test/out/agentleak.md
# (test/agentleak/README.md says how each figure is counted). `make test` replays a sample of 20.
AGENTLEAK_SCENARIOS ?= ../shared/data/agentleak/scenarios_dev.jsonl
AGENTLEAK_FLAGS ?=
agentleak:
	$(GO) run ./test/agentleak/cmd/agentleak -scenarios $(AGENTLEAK_SCENARIOS) -out test/out/agentleak.md $(AGENTLEAK_FLAGS)

# Every go test -fuzz target in the tree, FUZZTIME each (their seed corpora already run in
# make test). FUZZ=regexp picks targets by name, e.g. make fuzz FUZZ=SSE FUZZTIME=5m.
FUZZTIME ?= 30s
FUZZ ?= .
fuzz:
	@set -e; grep -rHo --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git '^func Fuzz[A-Za-z0-9_]*' . | \
	sed 's|^\./||; s|/[^/]*_test.go:func | |' | sort -u | grep -E " .*$(FUZZ)" | while read -r dir name; do \
		echo "== $$name ./$$dir"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "./$$dir" </dev/null || exit 1; \
	done

clean:
	rm -rf bin
