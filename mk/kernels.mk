# Kernel-specific targets (assembly generation, cross-architecture runs,
# benchmarks against OpenBLAS), included by the Makefile.

QEMU_ARM64_CPUS ?= cortex-a53 neoverse-n1 max

.PHONY: ci-kernels test-arm64

# What .ci/run adds to `make test` for the kernels.
ci-kernels: test-arm64

# arm64 under user-mode qemu, on several CPU models (installs qemu if needed).
test-arm64:
	@command -v qemu-aarch64-static >/dev/null || { apt-get update -qq && apt-get install -y -qq qemu-user-static >/dev/null; }
	@for c in $(QEMU_ARM64_CPUS); do echo "arm64 QEMU_CPU=$$c"; \
		GOARCH=arm64 QEMU_CPU=$$c $(GO) test -count=1 -short -exec qemu-aarch64-static ./kernels/... ./tensor/... || exit 1; done
