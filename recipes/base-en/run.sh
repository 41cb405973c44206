#!/usr/bin/env bash
# The base-en recipe, one command from a fresh machine:   bash recipes/base-en/run.sh [STAGE]
# Stages (each resumable; rerun the same command after an interruption):
#   0 install Debian tools   1 plan the corpus   2 synthesise   3 features   4 LM
#   5 train (long; runs until its planned compute is spent)   6 export to models/base-en   7 evaluate
#   6 export to models/base-en (parity-checked against PyTorch), add the LM, tune LM weight and word bonus
#     on the dev sets   7 evaluate on the four test sets and write MODEL_CARD.md
# Environment: WORK (default ~/adapt-asr-work/base-en), SHARED (default ../shared), RUN (default conv),
#   HOURS (planned training compute, default 6), THREADS (default 1), TRAIN_ARGS (extra train.py options).
# The shipped model: RUN=conv TRAIN_ARGS="--arch conv --d 256 --layers 12 --stack 4 --max-frames 6000
#   --warmup 150 --lr 1.5e-3" (see MODEL_CARD.md for the compute it got).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-$HOME/adapt-asr-work/base-en}
SHARED=${SHARED:-../shared}
RUN=${RUN:-conv}
HOURS=${HOURS:-6}
THREADS=${THREADS:-1}
FROM=${1:-0}
stage() { [ "$FROM" -le "$1" ]; }
mkdir -p "$WORK"

if stage 0; then
  command -v espeak-ng >/dev/null && command -v flite >/dev/null && command -v text2wave >/dev/null && /usr/bin/python3 -c 'import torch' 2>/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k sox \
      python3-numpy python3-torch irstlm
  }
fi
npx tsc -p . >/dev/null
if stage 1; then node dist/recipes/base-en/prepare.js --work "$WORK" --shared "$SHARED"; fi
if stage 2; then /usr/bin/python3 recipes/base-en/synth.py --work "$WORK" --workers "$(nproc)"; fi
if stage 3; then
  for m in train tts-dev tts-test kathleen-dev kathleen-test; do
    node dist/bin/adapt-asr.js features --manifest "$WORK/manifests/$m.jsonl" --out-dir "$WORK/feats/kaldi-fbank-80" --preset kaldi-fbank-80
  done
fi
if stage 4; then bash recipes/lm/build.sh "$WORK"; fi
if stage 5; then
  /usr/bin/python3 recipes/base-en/train.py --work "$WORK" --run "$RUN" --hours-total "$HOURS" --threads "$THREADS" ${TRAIN_ARGS:-}
fi
if stage 6; then
  /usr/bin/python3 recipes/base-en/export.py --ckpt "$WORK/runs/$RUN/best.pt" --out models/base-en
  node dist/recipes/base-en/check-export.js --model models/base-en --run "$WORK/runs/$RUN"
  cp "$WORK/lm/lm.arpa.gz" models/base-en/lm.arpa.gz
  node dist/recipes/base-en/tune-decoding.js --work "$WORK" --model models/base-en
fi
if stage 7; then
  node dist/recipes/base-en/evaluate.js --work "$WORK" --model models/base-en --shared "$SHARED"
  node dist/recipes/base-en/model-card.js --work "$WORK" --run "$RUN" --model models/base-en
fi
