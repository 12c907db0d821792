#!/usr/bin/env bash
# make bench-quant: issue 6's memory figure in one run. Peak resident memory
# of `gitcap infer` on git-base (random weights) at F32, 8 bits (Q8) and 4
# bits (NF4), each from a checkpoint stored that way (`gitcap quantize`),
# captioning the same images; then the decoding step's time at each width
# from `gitcap bench caption`. Output ends with:
#
#   infer bits=32 peak_rss_mb=… ratio_f32=1.000 anon_mb=… file_mb=… min_mb=… max_mb=…
#   infer bits=8  peak_rss_mb=… ratio_f32=…     …
#   infer bits=4  peak_rss_mb=… ratio_f32=…     …
#   decode bits=8 per_token_ms=… ratio_f32=…    (bits=32 and 4 likewise)
#   train lora_bits=16 peak_rss_mb=… ratio_16=1.000 step_ms=… anon_mb=… file_mb=… min_mb=… max_mb=…
#   train lora_bits=4  peak_rss_mb=… ratio_16=…     …
#
# The train lines are LoRA training steps (`gitcap bench train`: r=4 on the
# default targets, --batch_size 4 --text_len 32, TRAIN_STEPS timed steps)
# from the F32 checkpoint with the frozen base kept as loaded (16) or
# quantized to NF4 at load (4), peak RSS measured the same way.
#
# peak_rss_mb is the median over QUANT_RUNS runs (interleaved, so machine
# noise hits every width alike) of the child's ru_maxrss (bench/peakrss:
# wait4, no GNU time needed), in MiB; min_mb and max_mb show the spread. The
# resident set is file pages of the memory-mapped checkpoint that inference
# touches plus the binary (the same every run) and anonymous memory, the Go
# heap, whose peak moves by a few MB with garbage-collector timing. anon_mb
# and file_mb split the median run's largest /proc/PID/status sample.
#
#   bench/quant.sh [IMAGE_FOLDER]      default gitmodel/imageproc/testdata (7 images)
#
# Environment: BENCH_QUANT_DIR (binaries, checkpoints and logs; default
# /tmp/gitcap-bench-quant; checkpoints are made once and reused),
# QUANT_RUNS (3), QUANT_BATCH (infer --batch_size, 1), QUANT_THREADS (2),
# TRAIN_STEPS (3; 0 skips the train lines).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_QUANT_DIR:-/tmp/gitcap-bench-quant}
images=${1:-gitmodel/imageproc/testdata}
runs=${QUANT_RUNS:-3}
batch=${QUANT_BATCH:-1}
threads=${QUANT_THREADS:-2}
train_steps=${TRAIN_STEPS:-3}
GO=${GO:-go}
export CGO_ENABLED=0
mkdir -p "$dir"
$GO build -o "$dir/gitcap" ./cmd/gitcap
$GO build -o "$dir/peakrss" ./bench/peakrss

declare -A model=([32]=$dir/git-base-random [8]=$dir/git-base-random-q8 [4]=$dir/git-base-random-nf4)
if [[ ! -f ${model[32]}/model.safetensors ]]; then
	"$dir/gitcap" init --config gitmodel/testdata/git-base --output_dir "${model[32]}"
	# git-base's tokenizer files (the repository's copy of them)
	cp gitmodel/tokenizer/testdata/{vocab.txt,tokenizer_config.json,special_tokens_map.json} "${model[32]}/"
fi
for bits in 8 4; do
	if [[ ! -f ${model[$bits]}/model.safetensors ]]; then
		"$dir/gitcap" quantize --model_path "${model[32]}" --bits "$bits" --output_dir "${model[$bits]}"
	fi
done

log=$dir/quant.log
: >"$log"
for ((r = 1; r <= runs; r++)); do
	for bits in 32 8 4; do
		"$dir/peakrss" -sample 5ms -o "$log" -label "bits=$bits run=$r" -- \
			"$dir/gitcap" infer --model_path "${model[$bits]}" --input_path "$images" \
			--batch_size "$batch" --threads "$threads" --quiet >"$dir/captions-$bits.jsonl"
	done
done
n=$(wc -l <"$dir/captions-4.jsonl")
echo "# $runs runs per width, $n images from $images, batch $batch, $threads threads (log: $log)"

for bits in 32 8 4; do
	line=$("$dir/gitcap" bench caption --model_path "${model[$bits]}" --threads "$threads" --runs "$runs" 2>>"$log")
	echo "$line" | tee -a "$log"
	echo "bits=$bits $line" >>"$dir/decode.txt.$$"
done

awk -v runs="$runs" '
function median(a, n,    i, j, t) { # sorts a[1..n] by peak
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return a[int((n + 1) / 2)]
}
FNR == 1 { file++ }
file == 1 && /^peak_rss_kb=/ {
	delete v
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	b = v["bits"]; k = ++cnt[b]
	peak[b, k] = v["peak_rss_mb"]
	split_[b, v["peak_rss_mb"]] = sprintf("anon_mb=%s file_mb=%s", v["anon_mb"], v["file_mb"])
}
file == 2 {
	delete v
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	tok[v["bits"]] = v["per_token_ms"]
}
END {
	for (bi = 1; bi <= 3; bi++) {
		b = (bi == 1) ? 32 : (bi == 2) ? 8 : 4
		n = cnt[b]
		for (k = 1; k <= n; k++) a[k] = peak[b, k]
		m = median(a, n)
		if (b == 32) f32 = m
		printf "infer bits=%d peak_rss_mb=%.1f ratio_f32=%.3f %s min_mb=%.1f max_mb=%.1f\n", b, m, m / f32, split_[b, m], a[1], a[n]
	}
	for (bi = 1; bi <= 3; bi++) {
		b = (bi == 1) ? 32 : (bi == 2) ? 8 : 4
		printf "decode bits=%d per_token_ms=%s ratio_f32=%.2f\n", b, tok[b], tok[b] / tok[32]
	}
}' "$log" "$dir/decode.txt.$$"
rm -f "$dir/decode.txt.$$"

((train_steps > 0)) || exit 0
tlog=$dir/train.log
: >"$tlog"
for ((r = 1; r <= runs; r++)); do
	for bits in 16 4; do
		line=$("$dir/peakrss" -sample 5ms -o "$tlog" -label "bits=$bits run=$r" -- \
			"$dir/gitcap" bench train --model_path "${model[32]}" --lora_bits "$bits" \
			--batch_size 4 --text_len 32 --steps "$train_steps" --threads "$threads" 2>>"$dir/train-steps.log" | tail -1)
		echo "bits=$bits $line" >>"$tlog.steps"
	done
done
awk '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return a[int((n + 1) / 2)]
}
FNR == 1 { file++ }
{ delete v; for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
file == 1 && /^peak_rss_kb=/ {
	b = v["bits"]; k = ++cnt[b]
	peak[b, k] = v["peak_rss_mb"]
	split_[b, v["peak_rss_mb"]] = sprintf("anon_mb=%s file_mb=%s", v["anon_mb"], v["file_mb"])
}
file == 2 { b = v["bits"]; k = ++scnt[b]; step[b, k] = v["step_ms"] }
END {
	for (bi = 1; bi <= 2; bi++) {
		b = (bi == 1) ? 16 : 4
		n = cnt[b]
		for (k = 1; k <= n; k++) a[k] = peak[b, k]
		m = median(a, n)
		for (k = 1; k <= scnt[b]; k++) s[k] = step[b, k]
		if (b == 16) base = m
		printf "train lora_bits=%d peak_rss_mb=%.1f ratio_16=%.3f step_ms=%s %s min_mb=%.1f max_mb=%.1f\n", b, m, m / base, median(s, scnt[b]), split_[b, m], a[1], a[n]
	}
}' "$tlog" "$tlog.steps"
rm -f "$tlog.steps"
