#!/usr/bin/env bash
# Word trigram LM (modified Kneser-Ney, IRSTLM) from ../shared/corpora/text, without any sentence
# that an evaluation reads (see prepare-text.ts). Writes models/base-en/lm.arpa.gz.
# Usage: bash recipes/lm/build.sh [WORK]   (WORK: the base-en recipe folder holding splits.json)
# Environment: LM_TEXT_ARGS (prepare-text.js options; default, as shipped since base-en 2.4.1: --kathleen-train
#   --kathleen-repeat 4, Kathleen's training prompts counted 4 times; empty: none), LM_DIR (default WORK/lm),
#   MODEL_DIR (where lm.arpa.gz is copied; default models/base-en), LM_ORDER (default 3), LM_PRUNE (0, the
#   default: keep every n-gram; 1: drop singleton trigrams, IRSTLM -p, as base-en up to 2.4.0 shipped).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-${WORK:-$HOME/adapt-asr-work/base-en}}
SHARED=${SHARED:-../shared}
command -v /usr/lib/irstlm/bin/tlm >/dev/null || { apt-get update -qq && apt-get install -y -qq irstlm; }
export IRSTLM=/usr/lib/irstlm
export PATH=$IRSTLM/bin:$PATH
LM_DIR=${LM_DIR:-$WORK/lm}
MODEL_DIR=${MODEL_DIR:-models/base-en}
LM_TEXT_ARGS=${LM_TEXT_ARGS---kathleen-train --kathleen-repeat 4}
LM_PRUNE=${LM_PRUNE:-0}
mkdir -p "$LM_DIR"
npx tsc -p . >/dev/null
node dist/recipes/lm/prepare-text.js --shared "$SHARED" --splits "$WORK/splits.json" --out "$LM_DIR/text.txt" $LM_TEXT_ARGS
add-start-end.sh < "$LM_DIR/text.txt" > "$LM_DIR/text.se.txt"
rm -rf "$LM_DIR/tmp" "$LM_DIR/lm.ilm.gz" && mkdir -p "$LM_DIR/tmp"   # build-lm.sh refuses to overwrite its output
PRUNE=$([ "$LM_PRUNE" = 1 ] && echo -p || true)
build-lm.sh -i "$LM_DIR/text.se.txt" -n "${LM_ORDER:-3}" -o "$LM_DIR/lm.ilm.gz" -k 1 $PRUNE -s improved-kneser-ney -t "$LM_DIR/tmp" >/dev/null 2>&1
compile-lm "$LM_DIR/lm.ilm.gz" --text=yes /dev/stdout 2>/dev/null | gzip -9 > "$LM_DIR/lm.arpa.gz.tmp"
mv "$LM_DIR/lm.arpa.gz.tmp" "$LM_DIR/lm.arpa.gz"
mkdir -p "$MODEL_DIR"
cp "$LM_DIR/lm.arpa.gz" "$MODEL_DIR/lm.arpa.gz.tmp" && mv "$MODEL_DIR/lm.arpa.gz.tmp" "$MODEL_DIR/lm.arpa.gz"
# lm.json: how this LM was made (read by the model card).
node dist/recipes/lm/record.js "$LM_DIR/lm.arpa.gz" "$LM_DIR/text.txt.json" "$MODEL_DIR/lm.json" "${LM_ORDER:-3}" "$LM_PRUNE" "$LM_TEXT_ARGS"
zcat "$MODEL_DIR/lm.arpa.gz" | sed -n '1,6p'
ls -la "$MODEL_DIR/lm.arpa.gz"
