#!/usr/bin/env bash
# The Vulkan path on a machine with a real GPU, in a few minutes: what the
# machine and its Vulkan driver are, the kernel and model tests on the
# device (per-op errors, tiny golden logits, greedy/beam ids), then git-base
# (random weights from `gitcap init`) checked against the CPU and timed:
# caption latency per batch size, device and CPU.
#
#   bench/vulkan-device.sh [GIT_BASE_CONFIG_DIR]
#
# With Go on the machine it builds with -tags vulkan; without, it uses
# bin/vulkan/{gitcap,vulkan.test,vkgit.test} from `make build-vulkan`.
# If the machine has no Vulkan loader, put one at bin/vulkan/libvulkan.so.1
# (GITCAP_VULKAN_LIB); if it has NVIDIA's libGLX_nvidia.so.0 but no ICD
# file, the script writes one. GITCAP_VULKAN_DEVICE picks among devices.
set -uo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0 GOFLAGS=${GOFLAGS:--buildvcs=false} GITCAP_REQUIRE_VULKAN=1
T=${VULKAN_BENCH_TIMEOUT:-240} # seconds per step
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
section() { printf '\n=== %s\n' "$*"; }
status=0
step() { # step NAME CMD...: run with a timeout, report its exit status
	local name=$1; shift
	local t0=$SECONDS
	timeout "$T" "$@"; local rc=$?
	echo "--- $name: exit $rc in $((SECONDS - t0)) s"
	[ $rc -eq 0 ] || status=1
	return $rc
}
# filtered DIR PATTERN NAME CMD...: step in DIR, printing only lines matching
# PATTERN (the whole log is kept in $tmp/NAME.log and shown on failure).
filtered() {
	local dir=$1 pat=$2 name=$3; shift 3
	local t0=$SECONDS
	(cd "$dir" && timeout "$T" "$@") >"$tmp/$name.log" 2>&1; local rc=$?
	if [ $rc -eq 0 ]; then grep -E "$pat" "$tmp/$name.log" | grep -vE "step [0-9]+ logits"; else tail -n 60 "$tmp/$name.log"; fi
	echo "--- $name: exit $rc in $((SECONDS - t0)) s"
	[ $rc -eq 0 ] || status=1
	return $rc
}

section machine
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')  $(date -u +%FT%TZ)"
uname -srm; echo "cores $(nproc)"; free -g | head -2
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv

section vulkan driver
ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1 | grep -v '^total'
ldconfig -p | grep -E 'libvulkan\.so|libGLX_nvidia|libnvidia-glcore' || echo "(no libvulkan / NVIDIA GL libraries in ldconfig)"
if ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then
	if [ -f bin/vulkan/libvulkan.so.1 ]; then
		export GITCAP_VULKAN_LIB=$PWD/bin/vulkan/libvulkan.so.1
		echo "using the carried loader $GITCAP_VULKAN_LIB"
	else
		echo "no Vulkan loader (libvulkan.so.1); trying apt-get"
		(apt-get install -y -qq libvulkan1 >/dev/null 2>&1) || echo "apt-get failed (offline?)"
	fi
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1 &&
	ldconfig -p | grep -q libGLX_nvidia.so.0; then
	printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3.0"}}\n' >"$tmp/nvidia_icd.json"
	export VK_DRIVER_FILES=$tmp/nvidia_icd.json
	echo "wrote an NVIDIA ICD file: VK_DRIVER_FILES=$VK_DRIVER_FILES"
fi
command -v vulkaninfo >/dev/null && timeout 30 vulkaninfo --summary 2>/dev/null | sed -n '/Devices:/,$p' | head -30

section build
if command -v go >/dev/null; then
	go version
	step build go build -tags vulkan -o "$tmp/gitcap" ./cmd/gitcap &&
		step build-tests sh -c "go test -c -tags vulkan -o '$tmp/vulkan.test' ./kernels/vulkan && go test -c -tags vulkan -o '$tmp/vkgit.test' ./gitmodel/vkgit" || exit 1
	bin=$tmp
else
	bin=$PWD/bin/vulkan
	ls -l "$bin"/gitcap "$bin"/vulkan.test "$bin"/vkgit.test || { echo "no Go and no prebuilt binaries: run make build-vulkan first"; exit 1; }
fi

section "kernel tests on the device"
filtered kernels/vulkan 'device|normalised|^--- FAIL' kernels "$bin/vulkan.test" -test.count=1 -test.v

section "model tests on the device (tiny golden: logits within 1e-4, greedy and beam ids exact)"
filtered gitmodel/vkgit 'device|logits: max|ids|^--- ' model "$bin/vkgit.test" -test.count=1 -test.v -test.run 'MatchesHF|MatchesCPU|BadInputs|Quantized|PyTorch'

section "git-base on the device: logits and ids vs the CPU, caption latency"
cfg=${1:-}
for c in "$cfg" shared/golden/git-base-config ../shared/golden/git-base-config /work/shared/golden/git-base-config; do
	[ -n "$c" ] && [ -f "$c/config.json" ] && { cfg=$c; break; }
done
if [ ! -f "$cfg/config.json" ]; then
	echo "no git-base config folder found (pass it as the first argument)"; exit 1
fi
step init "$bin/gitcap" init --config "$cfg" --output_dir "$tmp/git-base" || exit 1
filtered gitmodel/vkgit 'gitbase_test|vulkan caption|^--- ' git-base env GITCAP_VKGIT_MODEL="$tmp/git-base" \
	GITCAP_VKGIT_BATCH="${VULKAN_BENCH_BATCH:-1,8}" GITCAP_VKGIT_RUNS=5 "$bin/vkgit.test" -test.count=1 -test.v -test.run GitBaseOnDevice -test.timeout "${T}s"

section "gitcap bench caption (CLI; compare device and cpu lines)"
for b in 1 8; do
	filtered . 'gitcap:|^caption' "bench-vulkan-b$b" "$bin/gitcap" bench caption -m "$tmp/git-base" --device vulkan --batch_size $b --runs 3
done
filtered . '^caption' bench-cpu-b1 "$bin/gitcap" bench caption -m "$tmp/git-base" --device cpu --batch_size 1 --runs 3
echo "(if the vulkan and cpu lines match, bench caption is still timing Model.Generate on the CPU: see the vulkan caption lines above)"

section "gitcap bench train (LoRA step: frozen products on the device vs all on the CPU)"
filtered . 'gitcap:|^train_step' train-vulkan "$bin/gitcap" bench train -m "$tmp/git-base" --device vulkan --batch_size 4 --text_len 32 --steps 2
filtered . '^train_step' train-cpu "$bin/gitcap" bench train -m "$tmp/git-base" --device cpu --batch_size 4 --text_len 32 --steps 2

section result
[ $status -eq 0 ] && echo "vulkan-device: all steps passed" || echo "vulkan-device: some step FAILED (see above)"
exit $status
