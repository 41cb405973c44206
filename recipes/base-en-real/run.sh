#!/usr/bin/env bash
# recipes/base-en-real: the offline English model for real voices, from a fresh machine.
#   bash recipes/base-en-real/run.sh          # all stages, about 70 min on 2 cores (stage 3 keeps a finished run)
#   bash recipes/base-en-real/run.sh 3        # from stage 3 on
# Stages: 0 Debian tools; 1 PocketSphinx en-us acoustic model -> ptm.onnx; 2 encode Kathleen with it;
# 3 train the trunk and head (PyTorch); 4 export models/base-en-real (encoder.onnx, head, model.json,
# cmudict, g2p, the PocketSphinx LM converted and pruned); 5 check ONNX Runtime against PyTorch;
# 6 tune decoding on Kathleen's dev prompts; 7 evaluate (bench/real-voices) and write MODEL_CARD.md.
# Needs ../shared/corpora/real beside the project. $WORK (default ~/adapt-asr-work/base-en-real) holds
# everything that is not shipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
FROM=${1:-0}
WORK=${WORK:-$HOME/adapt-asr-work/base-en-real}
OUT=${OUT:-models/base-en-real}
M=/usr/share/pocketsphinx/model/en-us
PY=/usr/bin/python3
mkdir -p "$WORK"
stage() { [ "$FROM" -le "$1" ]; }

if stage 0; then
  if ! dpkg -s pocketsphinx pocketsphinx-en-us sphinxbase-utils python3-torch python3-onnx python3-numpy > /dev/null 2>&1; then
    apt-get update && apt-get install -y pocketsphinx pocketsphinx-en-us sphinxbase-utils python3-torch python3-onnx python3-numpy
  fi
  [ -d node_modules ] || npm ci
  npx tsc -p .
fi

if stage 1; then
  pocketsphinx_mdef_convert -text $M/en-us/mdef "$WORK/mdef.txt" > /dev/null 2>&1
  $PY recipes/base-en-real/ptm_onnx.py --model $M/en-us --mdef-txt "$WORK/mdef.txt" --out "$WORK/ptm.onnx"
fi

if stage 2; then  # two processes, one per core; resumable
  node dist/recipes/base-en-real/encode.js --work "$WORK" --part 0/2 &
  node dist/recipes/base-en-real/encode.js --work "$WORK" --part 1/2
  wait
fi

if stage 3; then
  [ -f "$WORK/run/best.pt" ] && [ "${RETRAIN:-0}" = 0 ] || $PY recipes/base-en-real/train.py --work "$WORK" --epochs "${EPOCHS:-20}" --threads 2
fi

if stage 4; then
  $PY recipes/base-en-real/train.py --work "$WORK" --export "$OUT" --version "${VERSION:-1.0.0}"
  # the same cmudict (stress removed) and letter-to-phone rules as base-en
  cp models/base-en/pronunciations.txt.gz models/base-en/g2p.txt.gz models/base-en/g2p.json "$OUT/"
  # PocketSphinx's generic LM (72,547 words), pruned to 400k bigrams and 200k trigrams so that it loads in 2 s
  $PY recipes/base-en-real/sphinx_lm.py $M/en-us.lm.bin "$WORK/lm.arpa" --keep 400000,200000
  gzip -9 -c "$WORK/lm.arpa" > "$OUT/lm.arpa.gz.tmp" && mv "$OUT/lm.arpa.gz.tmp" "$OUT/lm.arpa.gz"
  printf '{\n "date": "%s",\n "source": "Debian pocketsphinx-en-us %s: en-us.lm.bin (BSD-2-Clause, CMU and Alpha Cephei)",\n "command": "recipes/base-en-real/sphinx_lm.py en-us.lm.bin lm.arpa --keep 400000,200000",\n "order": 3\n}\n' \
    "$(date -u +%F)" "$(dpkg-query -W -f='${Version}' pocketsphinx-en-us)" > "$OUT/lm.json"
fi

if stage 5; then
  node dist/recipes/base-en-real/check.js --work "$WORK" --model "$OUT"
fi

if stage 6; then
  node dist/recipes/base-en/tune-decoding.js --work "$WORK" --model "$OUT" --dev "$WORK/kathleen-dev.jsonl"
fi

if stage 7; then
  node dist/bench/real-voices.js --models base-en-real,base-en
  node dist/recipes/base-en-real/evaluate.js --work "$WORK"
  node dist/recipes/base-en-real/model-card.js --work "$WORK" --model "$OUT"
fi
