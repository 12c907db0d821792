#!/usr/bin/env bash
# make demo: learn to caption from scratch in minutes, then adapt with LoRA.
#
#  1. datagen   synthetic shapes: "a red circle above a small blue square"
#  2. init      a small random GIT for that vocabulary
#  3. train     full fine-tuning on the base captions
#  4. eval      loss, BLEU-4, CIDEr-D, exact match on validation images never trained on
#  5. infer     captions of a few validation images
#  6. LoRA      an adapter on the "reversed" variant ("... below ...", "... right of ...")
#  7. eval      the base model and the adapter on the variant's validation images
#  8. report    the numbers against issue 7's thresholds
#
# Everything goes to $DEMO_OUT (default demo-out/, ignored by git) and
# follows from fixed seeds. Progress bars show when stderr is a terminal.
# DEMO_SCALE=quick trains less (for a fast look; the thresholds are for the
# full run).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/gitcap
out=${DEMO_OUT:-demo-out}

# The configuration (measured on 2 shared cores of pure-Go kernels).
base_n=6000 base_val=200 base_epochs=10 base_lr=1e-3
var_n=1500 var_val=200 var_epochs=4 var_lr=3e-3 rank=8
if [[ ${DEMO_SCALE:-} == quick ]]; then
	base_n=1000 base_epochs=3 var_n=300 var_epochs=2
fi

start=$SECONDS
rm -rf "$out"
mkdir -p "$out"
say() { printf '\n== [%3ds] %s\n' $((SECONDS - start)) "$*"; }
# metric FILE KEY: the first "KEY": number of an eval report
metric() { grep -m1 "\"$2\":" "$1" | sed 's/.*: *//; s/,$//'; }

say "1/8 gitcap datagen shapes: base task ($base_n train + $base_val validation images) and the reversed variant"
$bin datagen shapes --output_dir "$out/shapes" --n $base_n --validation $base_val --seed 1 --max_objects 2 --image_size 32
$bin datagen shapes --output_dir "$out/shapes-reversed" --n $var_n --validation $var_val --seed 2 --max_objects 2 --image_size 32 --variant reversed
echo "e.g. $(head -n 3 "$out/shapes/train/metadata.jsonl" | sed 's/.*"text":"\([^"]*\)".*/"\1"/' | paste -sd ' ' -)"
echo "variant: $(head -n 2 "$out/shapes-reversed/train/metadata.jsonl" | sed 's/.*"text":"\([^"]*\)".*/"\1"/' | paste -sd ' ' -)"

say "2/8 gitcap init: a random GIT from $out/shapes/model-config"
$bin init --config "$out/shapes/model-config" --output_dir "$out/init" --seed 0

say "3/8 gitcap train --full_finetune on the base task"
$bin train --full_finetune --model_id "$out/init" --dataset "$out/shapes" --output_dir "$out/base" \
	--epochs $base_epochs --batch_size 16 --learning_rate $base_lr --lr_scheduler cosine --warmup_steps 30 --seed 0

say "4/8 gitcap eval: the base model on the validation split"
$bin eval --model_path "$out/base" --dataset "$out/shapes" --split validation --batch_size 32 --output_path "$out/eval-base.json"

say "5/8 gitcap infer on a few validation images"
mkdir -p "$out/samples"
for f in 000000 000001 000002 000003 000004 000005; do
	cp "$out/shapes/validation/$f.png" "$out/samples/"
done
$bin infer --model_path "$out/base" --input_path "$out/samples" --quiet --output_path "$out/samples.jsonl"
while IFS= read -r line; do
	file=$(sed 's/.*"file_name":"\([^"]*\)".*/\1/' <<<"$line")
	caption=$(sed 's/.*"caption":"\([^"]*\)".*/\1/' <<<"$line")
	truth=$(cat "$out/shapes/validation/${file%.png}.txt")
	mark="✓"
	[[ $caption == "$truth" ]] || mark="✗ (truth: $truth)"
	printf '  %s  %-48s %s\n' "$file" "$caption" "$mark"
done <"$out/samples.jsonl"

say "6/8 gitcap train (LoRA, rank $rank) on the reversed variant, base = the model of step 3"
$bin train --model_id "$out/base" --dataset "$out/shapes-reversed" --output_dir "$out/lora-reversed" \
	--epochs $var_epochs --batch_size 16 --learning_rate $var_lr --lr_scheduler cosine --warmup_steps 10 \
	--rank $rank --alpha $((2 * rank)) --dropout 0 --target_modules query,key,value,dense,output --seed 0

say "7/8 gitcap eval on the variant's validation split: base model, then base + adapter"
$bin eval --model_path "$out/base" --dataset "$out/shapes-reversed" --split validation --batch_size 32 --output_path "$out/eval-variant-base.json"
$bin eval --model_path "$out/lora-reversed" --model_id "$out/base" --dataset "$out/shapes-reversed" --split validation --batch_size 32 --output_path "$out/eval-variant-lora.json"

say "8/8 report"
loss=$(metric "$out/eval-base.json" loss)
bleu=$(metric "$out/eval-base.json" Bleu_4)
cider=$(metric "$out/eval-base.json" CIDEr)
em=$(metric "$out/eval-base.json" ExactMatch)
vem0=$(metric "$out/eval-variant-base.json" ExactMatch)
vem1=$(metric "$out/eval-variant-lora.json" ExactMatch)
vc0=$(metric "$out/eval-variant-base.json" CIDEr)
vc1=$(metric "$out/eval-variant-lora.json" CIDEr)
first=$(head -n 1 "$out/base/logs/train.jsonl" | sed 's/.*"loss":\([0-9.eE+-]*\).*/\1/')
last=$(tail -n 1 "$out/base/logs/train.jsonl" | sed 's/.*"loss":\([0-9.eE+-]*\).*/\1/')
wall=$((SECONDS - start))
report=$(awk -v loss="$loss" -v bleu="$bleu" -v cider="$cider" -v em="$em" -v vem0="$vem0" -v vem1="$vem1" \
	-v vc0="$vc0" -v vc1="$vc1" -v first="$first" -v last="$last" -v wall="$wall" -v nval="$base_val" -v vval="$var_val" 'BEGIN {
	ok1 = em >= 0.80; ok2 = cider >= 2.0; ok3 = vem1 - vem0 >= 0.5; ok4 = wall <= 480
	printf "gitcap demo report (issue 7)\n"
	printf "  base task, %d validation images never trained on:\n", nval
	printf "    training loss         %.3f -> %.3f\n", first, last
	printf "    validation loss       %.4f\n", loss
	printf "    BLEU-4                %.4f\n", bleu
	printf "    CIDEr-D               %.3f   (>= 2.0: %s)\n", cider, ok2 ? "PASS" : "FAIL"
	printf "    exact match           %.1f%%   (>= 80%%: %s)\n", 100 * em, ok1 ? "PASS" : "FAIL"
	printf "  reversed variant (LoRA), %d validation images:\n", vval
	printf "    exact match  base %.1f%% -> adapter %.1f%%   (rise >= 50 points: %s)\n", 100 * vem0, 100 * vem1, ok3 ? "PASS" : "FAIL"
	printf "    CIDEr-D      base %.3f -> adapter %.3f\n", vc0, vc1
	printf "  wall time               %d s   (<= 480 s: %s)\n", wall, ok4 ? "PASS" : "FAIL"
	printf "  result                  %s\n", (ok1 && ok2 && ok3 && ok4) ? "PASS" : "FAIL"
	exit !(ok1 && ok2 && ok3 && ok4)
}') && status=0 || status=$?
echo "$report" | tee "$out/report.txt"
if [[ ${DEMO_SCALE:-} == quick ]]; then
	exit 0 # the thresholds are for the full configuration
fi
exit $status
