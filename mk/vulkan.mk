# The optional Vulkan path (kernels.md §8), included by the Makefile. Every
# target builds with -tags vulkan; the default build never sees it.
#
#   make test-vulkan           what .ci/run runs: SPIR-V up to date, vet, the
#                              kernel and model tests on lavapipe (failing, not
#                              skipping, without a driver), the CLI on the
#                              tiny model, and the linkage of the vulkan binary
#   make vulkan-deps           apt-get the driver, loader and glslang if missing
#   make vulkan-shaders        recompile shaders/*.comp to SPIR-V
#   make check-vulkan-shaders  recompile, validate, and fail on any difference
#   make build-vulkan          bin/vulkan/gitcap (dynamically linked: libc, libdl,
#                              libpthread only) and the test binaries that
#                              bench/vulkan-device.sh can use without Go

VULKAN_TEST_PKGS := ./kernels/vulkan/... ./gitmodel/vkgit/...
VULKAN_BIN       := $(BIN)/vulkan
# lavapipe only, whatever else is installed (evaluated when a recipe runs)
LAVAPIPE_ENV      = VK_DRIVER_FILES=$$(ls /usr/share/vulkan/icd.d/lvp_icd.*.json | head -n1) GITCAP_REQUIRE_VULKAN=1
TINY_CLI         := cmd/gitcap/testdata/tiny-cli

.PHONY: test-vulkan vulkan-deps vulkan-shaders check-vulkan-shaders build-vulkan check-vulkan-link test-vulkan-cli

test-vulkan: check-vulkan-shaders
	$(GO) vet -tags vulkan ./...
	$(LAVAPIPE_ENV) $(GO) test -count=1 -tags vulkan $(VULKAN_TEST_PKGS)
	$(LAVAPIPE_ENV) $(GO) test -count=1 -tags vulkan -run 'OnDevice' ./cmd/gitcap
	$(MAKE) --no-print-directory check-vulkan-link test-vulkan-cli

vulkan-deps:
	@if ! command -v glslangValidator >/dev/null || ! command -v spirv-val >/dev/null || \
		! ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then \
		echo "installing mesa-vulkan-drivers libvulkan1 glslang-tools spirv-tools"; \
		apt-get update -qq && apt-get install -y -qq mesa-vulkan-drivers libvulkan1 glslang-tools spirv-tools >/dev/null; fi

vulkan-shaders: vulkan-deps
	$(GO) generate -tags vulkan ./kernels/vulkan

# glslangValidator output is byte-identical across runs (kernels.md §8.1).
check-vulkan-shaders: vulkan-shaders
	@for f in kernels/vulkan/shaders/*.spv; do spirv-val --target-env vulkan1.0 $$f || exit 1; done
	@git diff --exit-code -- kernels/vulkan/shaders || { echo "SPIR-V is stale: run make vulkan-shaders and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- kernels/vulkan/shaders)" || { git status --short -- kernels/vulkan/shaders; echo "uncommitted shader files"; exit 1; }

build-vulkan:
	$(GO) build -tags vulkan -o $(VULKAN_BIN)/gitcap ./cmd/gitcap
	$(GO) test -c -tags vulkan -o $(VULKAN_BIN)/vulkan.test ./kernels/vulkan
	$(GO) test -c -tags vulkan -o $(VULKAN_BIN)/vkgit.test ./gitmodel/vkgit

# The vulkan binary may need libc, libdl and libpthread (purego's fakecgo),
# nothing else: libvulkan is opened at run time.
check-vulkan-link: build-vulkan
	$(GO) run -tags vulkan ./kernels/vulkan/linkcheck $(VULKAN_BIN)/gitcap
	GOARCH=arm64 $(GO) build -tags vulkan -o $(VULKAN_BIN)/gitcap-arm64 ./cmd/gitcap
	$(GO) run -tags vulkan ./kernels/vulkan/linkcheck $(VULKAN_BIN)/gitcap-arm64

# `gitcap infer --device vulkan` on the tiny CLI model: the same token ids
# (and scores within 1e-4) as Hugging Face's, greedy and beam search.
test-vulkan-cli: build-vulkan
	@for mode in greedy:infer_greedy.jsonl beam3:infer_beam3.jsonl; do \
		name=$${mode%%:*}; want=$${mode#*:}; extra=; [ $$name = beam3 ] && extra=--num_beams=3; \
		out=$$(mktemp); \
		$(LAVAPIPE_ENV) $(VULKAN_BIN)/gitcap infer --device vulkan --model_path $(TINY_CLI)/model --input_path $(TINY_CLI)/images \
			--output_path $$out --max_length 20 --batch_size 4 $$extra || exit 1; \
		python3 -c 'import json,sys; \
got=[json.loads(l) for l in open(sys.argv[1])]; want=[json.loads(l) for l in open(sys.argv[2])]; \
assert [(g["file_name"],g["token_ids"]) for g in got]==[(w["file_name"],w["token_ids"]) for w in want], (got,want); \
assert all(abs(g["score"]-w["score"])<=1e-4 for g,w in zip(got,want)); \
print("vulkan infer", sys.argv[3], "matches HF:", len(got), "images")' $$out $(TINY_CLI)/expected/$$want $$name || exit 1; \
		rm -f $$out; done
