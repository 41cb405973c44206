#!/usr/bin/env bash
# Word trigram LM (modified Kneser-Ney, IRSTLM) from ../shared/corpora/text, without any sentence
# that an evaluation reads (see prepare-text.ts). Writes models/base-en/lm.arpa.gz.
# Usage: bash recipes/lm/build.sh [WORK]   (WORK: the base-en recipe folder holding splits.json)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-${WORK:-$HOME/adapt-asr-work/base-en}}
SHARED=${SHARED:-../shared}
command -v /usr/lib/irstlm/bin/tlm >/dev/null || { apt-get update -qq && apt-get install -y -qq irstlm; }
export IRSTLM=/usr/lib/irstlm
export PATH=$IRSTLM/bin:$PATH
mkdir -p "$WORK/lm"
npx tsc -p . >/dev/null
node dist/recipes/lm/prepare-text.js --shared "$SHARED" --splits "$WORK/splits.json" --out "$WORK/lm/text.txt"
add-start-end.sh < "$WORK/lm/text.txt" > "$WORK/lm/text.se.txt"
rm -rf "$WORK/lm/tmp" && mkdir -p "$WORK/lm/tmp"
build-lm.sh -i "$WORK/lm/text.se.txt" -n 3 -o "$WORK/lm/lm.ilm.gz" -k 1 -p -s improved-kneser-ney -t "$WORK/lm/tmp" >/dev/null 2>&1
compile-lm "$WORK/lm/lm.ilm.gz" --text=yes /dev/stdout 2>/dev/null | gzip -9 > "$WORK/lm/lm.arpa.gz"
mkdir -p models/base-en
cp "$WORK/lm/lm.arpa.gz" models/base-en/lm.arpa.gz
zcat models/base-en/lm.arpa.gz | sed -n '1,6p'
ls -la models/base-en/lm.arpa.gz
