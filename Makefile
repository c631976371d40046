# lafs — build, test and demo targets. `make test` is what CI runs.
GO       ?= go
BIN      := bin
PREFIX   ?= /usr/local
REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X github.com/lafs/lafs/internal/version.Revision=$(REVISION)
FUZZTIME ?= 3s

.PHONY: all build test vet fuzz-short demo man bench bench-all bench-cli install lint clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/tahoe ./cmd/lafs

vet:
	$(GO) vet ./...

# vet; every package's tests with the race detector; the end-to-end
# scripts without it (they start hundreds of CLI and node processes, each
# several times slower under the detector, and their code is raced in the
# packages' own tests); the codec's memory-flatness tests without it too
# (the detector's shadow memory would hide what they measure); then each
# fuzz target briefly.
test: vet
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list ./... | grep -v '/e2e$$')
	$(GO) test -count=1 -timeout 20m ./e2e/
	$(GO) test -count=1 -run 'TestEncodeMemoryFlat|TestDecodeMemoryFlat|TestCodecReusesSegmentMemory' ./pkg/client/chk
	$(MAKE) --no-print-directory fuzz-short

# Runs every FuzzXxx target for $(FUZZTIME) (scripts/fuzz-short.sh, which
# runs a target again when it meets Go's deadline race, golang/go#75804);
# longer by hand, e.g.
#   go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10m ./pkg/caps
fuzz-short:
	@sh scripts/fuzz-short.sh '$(GO)' '$(FUZZTIME)'

demo: build
	@sh scripts/demo.sh $(BIN)

man: build
	@mkdir -p man
	$(BIN)/tahoe generate-man > man/tahoe.1
	$(BIN)/lafs generate-man > man/lafs.1
	$(BIN)/tahoe completion bash > man/tahoe.bash
	$(BIN)/tahoe completion zsh > man/_tahoe
	$(BIN)/lafs completion bash > man/lafs.bash
	$(BIN)/lafs completion zsh > man/_lafs
	$(BIN)/lafs completion fish > man/lafs.fish
	$(BIN)/tahoe completion fish > man/tahoe.fish
	rm -f man/lafs-*.1; $(BIN)/lafs generate-man-pages man

# The benchmarks of issue 17, a few minutes in all (see README,
# Development): one core's SHA-256 (the floor), the codec, then the
# whole-system ones of package bench over the local grid and 10 in-process
# GBS nodes. BENCHFLAGS adds go test flags (-cpuprofile needs one package
# and one -bench pattern: run go test by hand). LAFS_BENCH_MIB sets the
# put/get size (default 64).
BENCHFLAGS ?=
bench:
	$(GO) test -run '^$$' -bench '^Benchmark(SHA256|Encode|Decode)$$' -benchtime 5x -benchmem $(BENCHFLAGS) ./pkg/client/chk
	$(GO) test -run '^$$' -bench '^Benchmark(Put|Get)$$' -benchtime 3x -benchmem $(BENCHFLAGS) ./bench
	$(GO) test -run '^$$' -bench '^BenchmarkCpSmallFiles$$' -benchtime 2x -benchmem $(BENCHFLAGS) ./bench
	$(GO) test -run '^$$' -bench '^Benchmark(Ls|MutableOverwrite)$$' -benchtime 5x -benchmem $(BENCHFLAGS) ./bench

# Every benchmark of every package, once each (slow; the layers' own).
bench-all:
	$(GO) test -run '^$$' -bench . -benchtime 1x -benchmem ./...

# Whole CLI processes, base vs new, as a Markdown table (internal/benchcli):
#   make bench-cli BASE=<git revision>          base built from BASE, new from the working tree
#   make bench-cli BENCHCLI='-base-bin DIR -new-bin DIR -rounds 1 -sizes 64'
BASE     ?= main
BENCHCLI ?=
bench-cli:
	$(GO) run ./internal/benchcli -base '$(BASE)' $(BENCHCLI)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN)/tahoe $(BIN)/lafs $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/tahoe.1 man/lafs.1 man/lafs-*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
