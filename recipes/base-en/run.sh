#!/usr/bin/env bash
# The base-en recipe, one command from a fresh machine:   bash recipes/base-en/run.sh [FROM_STAGE [TO_STAGE]]
# Stages (each resumable; rerun the same command after an interruption):
#   0 install Debian tools   1 plan the corpus   2 synthesise   3 features   4 LM
#   5 train the character model (long; runs until its planned compute is spent)
#   6 fine-tune it to cmudict phone targets (new head, whole encoder; base-en 2.x is this model); with
#     GROW_RUN set, then grow it to GROW_LAYERS conv blocks (new blocks start as identities) and train on
#     with vocal tract length perturbation (GROW_HOURS, GROW_ARGS); the grown model is then the one shipped
#   7 export to models/base-en (parity-checked against PyTorch; phones bring cmudict as pronunciations.txt.gz
#     and letter-to-phone rules learned from it as g2p.txt.gz), add the LM, tune beam, LM weight, word bonus, blank penalty and lexicon on the dev sets
#   8 evaluate on the four test sets and write MODEL_CARD.md
# Environment: WORK (default ~/adapt-asr-work/base-en), SHARED (default ../shared), RUN (default conv),
#   HOURS (planned character training compute, default 6), PHONE_RUN (default phone; empty: ship the
#   character model), PHONE_HOURS (default 1.85), THREADS (default 1), TRAIN_ARGS, PHONE_ARGS (extra
#   train.py options for stages 5 and 6), SYNTH_SPLITS (stage 2; dev,test: only what tuning and evaluation read), FROM_MODEL + FROM_MINUTES (stage 6 on a machine without the runs: rebuild a
#   checkpoint from a shipped model folder, e.g. models/base-en, with the CPU-minutes its MODEL_CARD.md gives, and
#   start the GROW_RUN from it instead of from the phone run; see recipes/base-en/README.md).
# The shipped model (see MODEL_CARD.md for the compute each stage got): RUN=conv TRAIN_ARGS="--arch conv
#   --d 256 --layers 12 --stack 4 --max-frames 6000 --warmup 150 --lr 3e-3"; the phone stage as below for
#   90 minutes (base-en 2.0.0), then resumed to 3 hours with real speech weighted three times:
#   PHONE_HOURS=3 PHONE_ARGS="--real-repeat 3" bash recipes/base-en/run.sh 6   (base-en 2.1.0), then to 4.35 hours
#   with real speech weighted four times: PHONE_HOURS=4.35 PHONE_ARGS="--real-repeat 4" ... 6   (base-en 2.2.0), then to
#   6 hours the same way (base-en 2.3.0); then grown: GROW_RUN=grow GROW_HOURS=3.5 ... 6   (base-en 2.4.0 ships that
#   run's best dev checkpoint, at 163 of its 210 minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-$HOME/adapt-asr-work/base-en}
SHARED=${SHARED:-../shared}
RUN=${RUN:-conv}
HOURS=${HOURS:-6}
PHONE_RUN=${PHONE_RUN-phone}
PHONE_HOURS=${PHONE_HOURS:-1.85}
GROW_RUN=${GROW_RUN:-}
GROW_LAYERS=${GROW_LAYERS:-24}
GROW_HOURS=${GROW_HOURS:-4}
THREADS=${THREADS:-1}
FROM_MODEL=${FROM_MODEL:-}
FROM=${1:-0}
TO=${2:-8}
stage() { [ "$FROM" -le "$1" ] && [ "$1" -le "$TO" ]; }
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
if stage 2; then /usr/bin/python3 recipes/base-en/synth.py --work "$WORK" --workers "$(nproc)" --splits "${SYNTH_SPLITS:-train,dev,test}"; fi
if stage 3; then
  for m in train tts-dev tts-test kathleen-dev kathleen-test; do
    [ -f "$WORK/manifests/$m.jsonl" ] || { echo "stage 3: no $m manifest (not synthesised), skipped"; continue; }
    node dist/bin/adapt-asr.js features --manifest "$WORK/manifests/$m.jsonl" --out-dir "$WORK/feats/kaldi-fbank-80" --preset kaldi-fbank-80
  done
fi
if stage 4; then bash recipes/lm/build.sh "$WORK"; fi
if stage 5; then
  /usr/bin/python3 recipes/base-en/train.py --work "$WORK" --run "$RUN" --hours-total "$HOURS" --threads "$THREADS" ${TRAIN_ARGS:-}
fi
GROW_SRC=$WORK/runs/$PHONE_RUN/best.pt
if stage 6 && [ -n "$FROM_MODEL" ]; then
  [ -n "$GROW_RUN" ] || { echo "FROM_MODEL needs GROW_RUN (the run that continues from it)" >&2; exit 2; }
  GROW_SRC=$WORK/runs/$GROW_RUN-from/shipped.pt
  [ -f "$GROW_SRC" ] || /usr/bin/python3 recipes/base-en/from-onnx.py --model "$FROM_MODEL" --out "$GROW_SRC" \
    --compute-minutes "${FROM_MINUTES:?set FROM_MINUTES: the CPU-minutes of training behind FROM_MODEL (its MODEL_CARD.md)}"
elif stage 6 && [ -n "$PHONE_RUN" ]; then
  /usr/bin/python3 recipes/base-en/train.py --work "$WORK" --run "$PHONE_RUN" --targets phone --init "$WORK/runs/$RUN/best.pt" \
    --hours-total "$PHONE_HOURS" --threads "$THREADS" --max-frames 6000 --warmup 150 --lr 2e-3 --ckpt-minutes 6 --dev-limit 60 \
    --arch conv --d 256 --layers 12 --stack 4 ${PHONE_ARGS:-}
fi
if stage 6 && [ -n "$PHONE_RUN" ] && [ -n "$GROW_RUN" ]; then
  /usr/bin/python3 recipes/base-en/train.py --work "$WORK" --run "$GROW_RUN" --targets phone --grow-from "$GROW_SRC" \
    --hours-total "$GROW_HOURS" --threads "$THREADS" --max-frames 6000 --warmup 300 --lr 8e-4 --ckpt-minutes 6 --dev-limit 60 \
    --arch conv --d 256 --layers "$GROW_LAYERS" --stack 4 --real-repeat 4 --vtlp 0.1 ${GROW_ARGS:-}
fi
SHIP=${GROW_RUN:-${PHONE_RUN:-$RUN}}
if stage 7; then
  /usr/bin/python3 recipes/base-en/export.py --ckpt "$WORK/runs/$SHIP/best.pt" --out models/base-en
  node dist/recipes/base-en/check-export.js --model models/base-en --run "$WORK/runs/$SHIP"
  # Letter-to-phone rules for words cmudict lacks (learned from cmudict, measured on held-out words: g2p.json).
  if [ -n "$PHONE_RUN" ]; then node dist/recipes/base-en/g2p.js --model models/base-en; fi
  cp "$WORK/lm/lm.arpa.gz" models/base-en/lm.arpa.gz
  node dist/recipes/base-en/tune-decoding.js --work "$WORK" --model models/base-en
fi
if stage 8; then
  node dist/recipes/base-en/evaluate.js --work "$WORK" --model models/base-en --shared "$SHARED"
  node dist/recipes/base-en/model-card.js --work "$WORK" --run "$SHIP" --model models/base-en
fi
