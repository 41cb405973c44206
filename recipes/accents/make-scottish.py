"""The bundled Scottish adaptation data, audio-fixtures/accents/scottish/{train,test}: the voices
held out of pretraining (flite awb, a diphone voice of a Scottish speaker, and espeak-ng
en-gb-scotland with several voice variants) reading the sentences the base-en recipe reserved
(splits.json accentSentences, never synthesised for pretraining nor used for the LM).
Train: sentences 0-199 (about 8 minutes); test: sentences 300-399 (about 2 minutes, 48 utterances).
transcripts.tsv: file<TAB>text<TAB>speaker. 16 kHz, 16-bit mono. Deterministic.
Usage: /usr/bin/python3 recipes/accents/make-scottish.py --work WORK [--out audio-fixtures/accents/scottish]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'base-en'))
from synth import read_wav  # noqa: E402

VOICES = [('flite', 'awb'), ('espeak', 'en-gb-scotland'), ('espeak', 'en-gb-scotland+m3'),
          ('espeak', 'en-gb-scotland+f2'), ('flite', 'awb'), ('espeak', 'en-gb-scotland+m1')]


def speak(engine, voice, text, rate, out):
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, 'raw.wav')
        if engine == 'flite':
            subprocess.run(['flite', '-voice', voice, '--setf', f'duration_stretch={rate:.3f}', '-t', text, '-o', raw], check=True, capture_output=True)
        else:
            subprocess.run(['espeak-ng', '-v', voice, '-s', str(int(175 / rate)), '-w', raw, text], check=True, capture_output=True)
        x, sr = read_wav(raw)
        x = x / (np.abs(x).max() or 1) * 0.6
        pcm = os.path.join(tmp, 'x.raw')
        np.clip(np.round(x * 32767), -32768, 32767).astype('<i2').tofile(pcm)
        subprocess.run(['sox', '-t', 'raw', '-r', str(sr), '-e', 'signed', '-b', '16', '-c', '1', pcm, '-r', '16000', out], check=True)
    return float(subprocess.run(['soxi', '-D', out], capture_output=True, text=True).stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--work', required=True)
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', '..', 'audio-fixtures', 'accents', 'scottish'))
    a = p.parse_args()
    sentences = json.load(open(os.path.join(a.work, 'splits.json')))['accentSentences']
    rng = np.random.default_rng(7)
    for split, idx in (('train', range(0, 200)), ('test', range(300, 348))):
        d = os.path.join(a.out, split)
        os.makedirs(d, exist_ok=True)
        lines, total = [], 0.0
        for k, i in enumerate(idx):
            engine, voice = VOICES[k % len(VOICES)]
            speaker = voice if engine == 'espeak' else 'flite-awb'
            name = f'{split}-{i:03d}.wav'
            total += speak(engine, voice, sentences[i], 0.9 + 0.25 * rng.random(), os.path.join(d, name))
            lines.append(f'{name}\t{sentences[i]}\t{speaker}\n')
            if split == 'train' and total > 8 * 60:
                break
        with open(os.path.join(d, 'transcripts.tsv'), 'w') as f:
            f.writelines(lines)
        print(f'{split}: {len(lines)} utterances, {total / 60:.1f} min')


if __name__ == '__main__':
    main()
