#!/usr/bin/env bash
# make demo: the main job end to end with what ships in the repository.
# The tiny model has random weights (it is the golden-test model), so its
# captions are nonsense; the point is the whole path: model folder, image
# decoding and CLIP preprocessing, GIT forward with a KV cache, greedy and
# beam decoding, WordPiece decoding, JSONL output.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/gitcap
model=cmd/gitcap/testdata/tiny-cli/model
images=cmd/gitcap/testdata/tiny-cli/images
echo "== gitcap inspect $model"
$bin inspect "$model" | tail -n 4
echo
echo "== gitcap infer (greedy) on $images"
$bin infer --model_path "$model" --input_path "$images" --max_length 20
echo
echo "== gitcap infer --num_beams 3"
$bin infer --model_path "$model" --input_path "$images" --max_length 20 --num_beams 3
echo
echo "== LoRA adapter on top of the base (--model_id names the base)"
$bin infer --model_path cmd/gitcap/testdata/tiny-cli/init_adapter --model_id "$model" --input_path "$images/boat.png"
