#!/usr/bin/env bash
# A probe (not a recipe stage): do more voices teach the trunk to generalise? Synthesises 1,200 sentences
# with 69 espeak-ng/flite voices (synth-probe.py; never the Scottish voices, never an evaluated sentence),
# encodes them, fine-tunes the shipped trunk on Kathleen + them for up to 8 epochs with the senone embedding
# dropped for 30% of utterances (selected on Kathleen's dev prompts and 3 held-out voices), and scores it
# beside the shipped model on every 5th p239 and zh-L1 test utterance (bench/real-voices --quick), with the
# shipped model's decoding settings. Needs the recipe's $WORK (stages 1-3). About 25 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-$HOME/adapt-asr-work/base-en-real}
P=${PROBE:-$HOME/adapt-asr-work/base-en-real-probe}
M=${PROBE_MODEL:-/tmp/base-en-real-probe}
mkdir -p "$P"
/usr/bin/python3 recipes/base-en-real/synth-probe.py --work "$P" --n 1200
cp "$WORK/ptm.onnx" "$WORK/utts-0.jsonl" "$WORK/utts-1.jsonl" "$P/"
node dist/recipes/base-en-real/encode.js --work "$P" --part 0/2 --list "$P/tts.jsonl" &
node dist/recipes/base-en-real/encode.js --work "$P" --part 1/2 --list "$P/tts.jsonl"
wait
/usr/bin/python3 recipes/base-en-real/train.py --work "$P" --epochs 8 --lr 1e-3 --threads 2 --init "$WORK/run/best.pt" --senone-drop 0.3
rm -rf "$M" && mkdir -p "$M"
/usr/bin/python3 recipes/base-en-real/train.py --work "$P" --export "$M"
cp models/base-en-real/{pronunciations.txt.gz,g2p.txt.gz,lm.arpa.gz} "$M/"
node -e "const fs=require('fs');const m=JSON.parse(fs.readFileSync('$M/model.json'));m.decoding=JSON.parse(fs.readFileSync('models/base-en-real/model.json')).decoding;m.name='base-en-real-probe';fs.writeFileSync('$M/model.json',JSON.stringify(m,null,2))"
node dist/bench/real-voices.js --quick --models "$M",base-en-real
