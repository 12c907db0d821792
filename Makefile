# gitcap — build, test and benchmark. Every target is CGO-free.
export CGO_ENABLED := 0
GO      ?= go
BIN     := bin
FUZZTIME ?= 5m

.PHONY: all build test test-go test-purego cross static lint vet bench bench-quant fuzz demo clean tools

all: build

include mk/kernels.mk
include mk/vulkan.mk

build:
	$(GO) build -o $(BIN)/gitcap ./cmd/gitcap

# The one test command: format, vet (amd64 and arm64), every test natively,
# again without assembly, the arm64 cross build and the static-binary check.
test: lint vet test-go test-purego cross static

test-go:
	$(GO) test -count=1 ./...

test-purego:
	$(GO) test -count=1 -tags purego ./...

cross:
	GOOS=linux GOARCH=arm64 $(GO) build ./...
	GOOS=linux GOARCH=arm64 $(GO) build -tags purego ./...

# Default binaries for amd64 and arm64 must be statically linked ELF files.
static:
	GOOS=linux GOARCH=amd64 $(GO) build -o $(BIN)/linux-amd64/gitcap ./cmd/gitcap
	GOOS=linux GOARCH=arm64 $(GO) build -o $(BIN)/linux-arm64/gitcap ./cmd/gitcap
	$(GO) run ./internal/tools/elfcheck $(BIN)/linux-amd64/gitcap $(BIN)/linux-arm64/gitcap
	@! $(GO) list -deps ./cmd/gitcap | grep -q ebitengine/purego || { echo "default build pulls purego"; exit 1; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=linux GOARCH=arm64 $(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime=5x ./kernels/

# Peak RSS of `gitcap infer` on git-base (random weights) at F32, 8 and 4
# bits, as ratios of F32's, and the decoding step at each (bench/quant.sh;
# QUANT_RUNS, QUANT_BATCH, QUANT_THREADS, BENCH_QUANT_DIR).
bench-quant:
	GO=$(GO) bash bench/quant.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) -parallel 1 ./tensor/safetensors/

# The main job end to end, with what exists so far.
demo: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN)
