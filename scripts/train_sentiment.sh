#!/usr/bin/env bash
# Retrains the shipped sentiment models from the public corpora (see /work/shared/datasets/README.md
# or ../shared/datasets/sentiment/). Deterministic: the same corpora give the same model bytes.
#
#   scripts/train_sentiment.sh [DATASET_DIR]
#
# Model: logistic regression over sublinear TF-IDF n-grams (Chinese: characters 1–3 with
# negation scopes; English: words 1–2 plus VADER's compound score); see docs/design-notes.md.
# Each corpus is split 80/20 by a seeded hash of the text (split seed 42); only the 80 % is
# used for training and the held-out metrics are written into the model file.
# After retraining, rebuild: the models are embedded in the binary with include_str!.
set -euo pipefail
cd "$(dirname "$0")/.."
D="${1:-${LTV_SENTIMENT_DATA:-}}"
if [ -z "$D" ]; then
  for c in ../shared/datasets/sentiment /work/shared/datasets/sentiment; do
    if [ -d "$c" ]; then D="$c"; break; fi
  done
fi
[ -d "${D:-}" ] || { echo "error: dataset directory not found; pass it as the first argument" >&2; exit 1; }

cargo build --release --quiet --bin ltv
LTV=target/release/ltv

$LTV sentiment train --lang zh \
  --pos "$D/zh_reviews_pos.txt" --neg "$D/zh_reviews_neg.txt" \
  --holdout 0.2 --split-seed 42 --seed 42 \
  -o models/sentiment-zh.json

$LTV sentiment train --lang en \
  --csv "$D/small_fine_foods_training.csv" --text-column review --label-column score \
  --positive-label great \
  --holdout 0.2 --split-seed 42 --seed 42 \
  -o models/sentiment-en.json

chmod 644 models/sentiment-zh.json models/sentiment-en.json
ls -l models/sentiment-zh.json models/sentiment-en.json
sha256sum models/sentiment-zh.json models/sentiment-en.json
