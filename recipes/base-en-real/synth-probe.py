"""A probe, not a stage of the recipe: do more voices help the trunk generalise? Synthesises sentences of
../shared/corpora/text with espeak-ng and flite voices (never the Scottish ones, never a sentence of the
Kathleen, p239 or zh-L1 transcripts) into WORK/tts/, and writes WORK/tts.jsonl {id, split, file, text}:
train voices and three held-out dev voices.
Usage: /usr/bin/python3 recipes/base-en-real/synth-probe.py --work DIR [--n 1200]"""
import argparse
import json
import os
import random
import re
import subprocess

ap = argparse.ArgumentParser()
ap.add_argument('--work', required=True)
ap.add_argument('--shared', default='../shared')
ap.add_argument('--n', type=int, default=1200)
a = ap.parse_args()
norm = lambda t: re.sub(r"[^a-z' ]", ' ', t.lower()).split()
held = set()
real = os.path.join(a.shared, 'corpora', 'real')
for d in os.listdir(real):
    tsv = os.path.join(real, d, 'transcripts.tsv')
    if os.path.exists(tsv):
        held |= {' '.join(norm(l.split('\t', 1)[1])) for l in open(tsv) if '\t' in l}
sents = [s.strip() for s in open(os.path.join(a.shared, 'corpora', 'text', 'sentences.txt')) if 4 <= len(s.split()) <= 18]
sents = [s for s in sents if ' '.join(norm(s)) not in held and re.fullmatch(r"[A-Za-z ,.'?!;:-]+", s)]
rnd = random.Random(7)
rnd.shuffle(sents)
espeak = [f'{acc}+{v}' for acc in ['en-us', 'en-gb', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-029', 'en-us-nyc'] for v in ['m1', 'm2', 'm3', 'm4', 'm6', 'm7', 'f1', 'f2', 'f4', 'f5', 'klatt']]
train_voices = [('espeak', v) for v in espeak] + [('flite', v) for v in ['kal', 'kal16', 'rms']]
dev_voices = [('espeak', 'en-gb-x-gbcwmd+m5'), ('espeak', 'en-us+f3'), ('flite', 'slt')]
out = os.path.join(a.work, 'tts')
os.makedirs(out, exist_ok=True)
rows = []
for i, s in enumerate(sents[:a.n + 150]):
    split = 'train' if i < a.n else 'ttsdev'
    kind, voice = rnd.choice(train_voices if split == 'train' else dev_voices)
    f = os.path.join(out, f'{split}-{i:05d}.wav')
    if not os.path.exists(f):
        if kind == 'espeak':
            subprocess.run(['espeak-ng', '-v', voice, '-s', str(rnd.randint(140, 190)), '-w', f, s], check=True)
        else:
            subprocess.run(['flite', '-voice', voice, '-t', s, '-o', f], check=True)
    rows.append({'id': f'tts-{split}-{i:05d}', 'split': split, 'file': os.path.abspath(f), 'text': ' '.join(norm(s)), 'voice': f'{kind}:{voice}'})
with open(os.path.join(a.work, 'tts.jsonl'), 'w') as fh:
    fh.write(''.join(json.dumps(r) + '\n' for r in rows))
print(f'{len(rows)} utterances ({a.n} train, {len(rows) - a.n} dev), {len(sents)} sentences eligible')
