# Kernel-specific targets (assembly generation, cross-architecture runs,
# benchmarks against OpenBLAS), included by the Makefile.
#
#   make generate          regenerate the avo assembly (kernels/_generate)
#   make check-generated   regenerate and fail if the committed files differ
#   make test-arm64        kernels + tensor under qemu-aarch64, several CPU models
#   make test-amd64-qemu   kernels under qemu-x86_64 (AVX2 and no-SIMD paths)
#   make bench-compare     sgemm GFLOP/s: gitcap vs OpenBLAS (numpy) vs gonum
#   make bench-kernels     the Variant/Shape micro-benchmarks of package kernels
#   make bench-e2e         git-base encoder GFLOP/s vs OpenBLAS, per-token ms vs bandwidth

QEMU_ARM64_CPUS ?= cortex-a53 neoverse-n1 max
QEMU_AMD64_CPUS ?= Haswell-v4 qemu64
GENERATED_ASM   := kernels/zavx512_amd64.s kernels/zavx512_amd64.go kernels/zavx2_amd64.s kernels/zavx2_amd64.go
# bench-compare: repetitions, thread counts, shapes (empty: the git-base set).
BENCH_REPS    ?= 5
BENCH_THREADS ?= 1,2
BENCH_SHAPES  ?=
# OpenBLAS picks its kernels for this CPU itself: this environment sets
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (for old OpenBLAS builds), which
# slow a current one, so the benchmark unsets both (the first output line
# names the core OpenBLAS runs). `make bench-compare OPENBLAS_CORETYPE=Haswell`
# measures against a forced core type instead.
ifeq ($(origin OPENBLAS_CORETYPE),command line)
  OPENBLAS_ENV := env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=$(OPENBLAS_CORETYPE)
else
  OPENBLAS_ENV := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
endif

.PHONY: ci-kernels generate check-generated test-kernels-forced test-arm64 test-amd64-qemu qemu-user bench-compare bench-kernels bench-e2e

# What .ci/run adds to `make test` for the kernels.
ci-kernels: check-generated test-kernels-forced test-amd64-qemu test-arm64

# The whole repository with each instruction set forced (GITCAP_KERNELS),
# and the kernels without assembly under the noasm tag (make test runs
# purego).
test-kernels-forced:
	@for k in generic avx2; do echo "GITCAP_KERNELS=$$k"; GITCAP_KERNELS=$$k $(GO) test -count=1 ./kernels/... ./nn/... ./gitmodel || exit 1; done
	$(GO) test -count=1 -tags noasm ./kernels/...

generate:
	$(GO) generate ./kernels

# Regenerating must reproduce the committed assembly byte for byte.
check-generated: generate
	@git diff --exit-code -- $(GENERATED_ASM) || { echo "generated assembly is stale: run make generate and commit"; exit 1; }

qemu-user:
	@command -v qemu-aarch64-static >/dev/null && command -v qemu-x86_64-static >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq qemu-user-static >/dev/null; }

# arm64 under user-mode qemu, on several CPU models (installs qemu if needed).
# The test binaries are built once and run on each model.
test-arm64: qemu-user
	@for c in $(QEMU_ARM64_CPUS); do echo "arm64 QEMU_CPU=$$c"; \
		GOARCH=arm64 QEMU_CPU=$$c $(GO) test -count=1 -short -exec qemu-aarch64-static ./kernels/... ./tensor/... || exit 1; done
	@echo "arm64 purego QEMU_CPU=cortex-a53"; \
		GOARCH=arm64 QEMU_CPU=cortex-a53 $(GO) test -count=1 -short -tags purego -exec qemu-aarch64-static ./kernels/...

# The amd64 AVX2 and generic paths under qemu-x86_64, which has no AVX-512:
# Haswell-v4 selects avx2, qemu64 (no AVX) only generic.
test-amd64-qemu: qemu-user
	@for c in $(QEMU_AMD64_CPUS); do echo "amd64 QEMU_CPU=$$c"; \
		out=$$(QEMU_CPU=$$c $(GO) test -count=1 -short -exec qemu-x86_64-static ./kernels/... 2>&1); rc=$$?; \
		echo "$$out" | grep -v "TCG doesn't support"; test $$rc -eq 0 || exit 1; done

# OpenBLAS through Debian's numpy (installed if missing) beside gonum and
# gitcap, interleaved in one run; one line per shape and thread count.
bench-compare:
	@/usr/bin/python3 -c 'import numpy' 2>/dev/null && ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas* >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq python3-numpy libopenblas0-pthread >/dev/null; }
	$(OPENBLAS_ENV) $(GO) run ./bench/sgemmcompare -reps $(BENCH_REPS) -threads $(BENCH_THREADS) $(if $(BENCH_SHAPES),-shapes $(BENCH_SHAPES))

bench-kernels:
	$(GO) test -run '^$$' -bench . -benchtime=200ms ./kernels/

# Issue 4's end-to-end figures: the git-base encoder's GFLOP/s beside
# OpenBLAS's 197x768x3072 rate, and the per-token time beside the weight
# streaming time, measured in one run (bench/e2e.sh).
bench-e2e:
	@/usr/bin/python3 -c 'import numpy' 2>/dev/null && ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas* >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq python3-numpy libopenblas0-pthread >/dev/null; }
	GO=$(GO) bash bench/e2e.sh
