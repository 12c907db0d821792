# gitcap — build, test and benchmark. Every target is CGO-free.
export CGO_ENABLED := 0
GO      ?= go
BIN     := bin
FUZZTIME ?= 5m
QEMU_ARM64_CPUS ?= cortex-a53 neoverse-n1 max

.PHONY: all build test test-go test-purego test-arm64 cross static lint vet bench fuzz demo clean tools

all: build

build:
	$(GO) build -o $(BIN)/gitcap ./cmd/gitcap

# The one test command: format, vet (amd64 and arm64), every test natively,
# again without assembly, the arm64 cross build and the static-binary check.
test: lint vet test-go test-purego cross static

test-go:
	$(GO) test -count=1 ./...

test-purego:
	$(GO) test -count=1 -tags purego ./...

# arm64 under user-mode qemu, on several CPU models (installs qemu if needed).
test-arm64:
	@command -v qemu-aarch64-static >/dev/null || { apt-get update -qq && apt-get install -y -qq qemu-user-static >/dev/null; }
	@for c in $(QEMU_ARM64_CPUS); do echo "arm64 QEMU_CPU=$$c"; \
		GOARCH=arm64 QEMU_CPU=$$c $(GO) test -count=1 -short -exec qemu-aarch64-static ./kernels/... ./tensor/... || exit 1; done

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

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) -parallel 1 ./tensor/safetensors/

# The main job end to end, with what exists so far.
demo: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN)
