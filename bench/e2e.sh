#!/usr/bin/env bash
# make bench-e2e: issue 4's end-to-end figures in one run, each beside the
# anchor measured in the same run.
#
#   encoder   vision tower + projection of git-base (35.3 GFLOP per 224×224
#             image) from `gitcap bench caption`, as GFLOP/s, ÷ OpenBLAS's
#             sgemm rate on 197x768x3072 (OpenBLAS choosing its own kernels;
#             see mk/kernels.mk), at 1 and 2 threads, batch 1 and 8;
#   per token the decoding step at batch 1 ÷ the time to stream the 264 MB of
#             float32 decoder and LM-head weights once at the read bandwidth
#             measured by BenchmarkReadBandwidth (kernels/isa_test.go).
#
# The model is git-base with random weights (gitcap init), made once under
# $BENCH_DIR (default /tmp/gitcap-bench). The OpenBLAS and bandwidth figures
# are taken before and after the caption runs and averaged, since the
# machine is shared. Output ends with one line per configuration:
#
#   e2e batch=1 threads=2 vision_ms=… vision_gflops=… openblas_gflops=… ratio_openblas=… per_token_ms=… stream_ms=… ratio_stream=…
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/gitcap-bench}
runs=${BENCH_RUNS:-5}
GO=${GO:-go}
export CGO_ENABLED=0
mkdir -p "$dir"
$GO build -o "$dir/gitcap" ./cmd/gitcap
model=$dir/git-base-random
if [[ ! -f $model/model.safetensors ]]; then
	"$dir/gitcap" init --config gitmodel/testdata/git-base --output_dir "$model"
	# git-base's tokenizer files (the repository's copy of them)
	cp gitmodel/tokenizer/testdata/{vocab.txt,tokenizer_config.json,special_tokens_map.json} "$model/"
fi
$GO test -c -o "$dir/kernels.test" ./kernels

openblas() { # one sgemmcompare pass: "threads rate" lines
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $GO run ./bench/sgemmcompare -reps 3 -threads 1,2 -shapes 197x768x3072 |
		tee -a "$dir/e2e.log" | awk '/^sgemm/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["threads"], v["openblas"] }'
}
bandwidth() { # "threads ms_per_stream" lines
	"$dir/kernels.test" -test.run '^$' -test.bench ReadBandwidth -test.benchtime 10x | tee -a "$dir/e2e.log" |
		awk '/ReadBandwidth/ { t = $1; sub(/.*threads=/, "", t); sub(/-.*/, "", t); for (i = 1; i < NF; i++) if ($(i+1) == "ms/stream") print t, $i }'
}

: >"$dir/e2e.log"
echo "# anchors, first pass"
ob1=$(openblas) && echo "$ob1"
bw1=$(bandwidth) && echo "$bw1"
caps=""
for b in 1 8; do
	for t in 1 2; do
		line=$("$dir/gitcap" bench caption --model_path "$model" --batch_size $b --threads $t --runs "$runs" 2>>"$dir/e2e.log")
		echo "$line"
		caps+="$line"$'\n'
	done
done
echo "# anchors, second pass"
ob2=$(openblas) && echo "$ob2"
bw2=$(bandwidth) && echo "$bw2"

awk -v ob="$ob1"$'\n'"$ob2" -v bw="$bw1"$'\n'"$bw2" '
BEGIN {
	n = split(ob, l, "\n"); for (i = 1; i <= n; i++) if (split(l[i], f, " ") == 2) { os[f[1]] += f[2]; oc[f[1]]++ }
	n = split(bw, l, "\n"); for (i = 1; i <= n; i++) if (split(l[i], f, " ") == 2) { bs[f[1]] += f[2]; bc[f[1]]++ }
}
/^caption/ {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	t = v["threads"]; o = os[t] / oc[t]; s = bs[t] / bc[t]
	line = sprintf("e2e batch=%s threads=%s vision_ms=%s vision_gflops=%s openblas_gflops=%.1f ratio_openblas=%.2f per_token_ms=%s",
		v["batch"], t, v["vision_ms"], v["vision_gflops"], o, v["vision_gflops"] / o, v["per_token_ms"])
	if (v["batch"] == 1) line = line sprintf(" stream_ms=%.2f ratio_stream=%.2f", s, v["per_token_ms"] / s)
	print line
}' <<<"$caps"
