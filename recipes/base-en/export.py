"""Stage 5 of the base-en recipe: export a trained checkpoint to the models/base-en directory.

- encoder.onnx: kind `features`: input `features` float32 [batch, time, 80] (utterance-normalised
  kaldi-fbank-80), output `encoder_out` float32 [batch, time // stack, d].
  With --top N (default 2), a second output `encoder_top_in`: the input of the last N conv blocks,
  whose weights are also saved as top.<j>.<tensor>.npy, so `train --method top` can fine-tune them.
- head.weight.npy (d, V) and head.bias.npy (V,): the base CTC head over the checkpoint's vocabulary
  (29 characters, or 39 cmudict phones + word separator + blank).
- pronunciations.txt.gz (phone models): cmudict without stress marks, words limited to the
  normaliser's alphabet (a-z and '), with its licence notice; model.json ctcHead.pronunciations.
- model.json (validated by adapt-asr when loaded). The model card is written by the recipe's report step.
Usage: /usr/bin/python3 recipes/base-en/export.py --ckpt RUN/best.pt --out models/base-en [--json-extra extra.json]
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from model import VOCAB, CtcModel  # noqa: E402
from pron import CMUDICT  # noqa: E402

CMUDICT_NOTICE = '''# CMU Pronouncing Dictionary (cmudict-en-us.dict from Debian's pocketsphinx-en-us), stress marks removed.
# Copyright 1995-2014 Carnegie Mellon University. All rights reserved. Redistribution and use in source
# and binary forms, with or without modification, are permitted provided that the following conditions are
# met: 1. Redistributions of source code must retain the above copyright notice, this list of conditions and
# the following disclaimer. 2. Redistributions in binary form must reproduce the above copyright notice, this
# list of conditions and the following disclaimer in the documentation and/or other materials provided with
# the distribution. THIS SOFTWARE IS PROVIDED BY CARNEGIE MELLON UNIVERSITY "AS IS" AND ANY EXPRESSED OR
# IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
# A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL CARNEGIE MELLON UNIVERSITY NOR ITS EMPLOYEES BE
# LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
# LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS
# INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
# (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF
# THE POSSIBILITY OF SUCH DAMAGE.
'''


def write_pronunciations(path):
    """cmudict, stress removed, words of the normaliser's alphabet only; gzipped, atomically."""
    import gzip
    import re
    lines = []
    with open(CMUDICT, encoding='utf-8') as f:
        for line in f:
            parts = line.split()
            word = parts[0].split('(')[0] if parts else ''
            if len(parts) >= 2 and re.fullmatch(r"[a-z']+", word):
                lines.append(word + ' ' + ' '.join(p.rstrip('012') for p in parts[1:]))
    with gzip.open(path + '.tmp', 'wt', encoding='utf-8', compresslevel=9) as f:
        f.write(CMUDICT_NOTICE + '\n'.join(lines) + '\n')
    os.replace(path + '.tmp', path)
    return len(lines)


class EncoderOnly(torch.nn.Module):
    """The encoder, with a second output: the hidden states that enter its last `top` blocks
    (conv arch), which adapt-asr can fine-tune per accent (`train --method top`)."""

    def __init__(self, model, top):
        super().__init__()
        self.encoder = model.encoder
        self.top = top

    def forward(self, features):
        e = self.encoder
        if not self.top:
            return e(features)
        B, T, F = features.shape
        T2 = T // e.stack
        x = e.proj(features[:, : T2 * e.stack].reshape(B, T2, F * e.stack))
        mid = x
        for i, b in enumerate(e.blocks):
            if i == len(e.blocks) - self.top:
                mid = x
            x = b(x)
        return x, mid


def save_top(model, top, out):
    """Top conv blocks as .npy: dw (kernel, d) and bias; pw (d_in, d_out) and bias; LayerNorm gain and bias."""
    names = []
    blocks = model.encoder.blocks
    for j, b in enumerate(blocks[len(blocks) - top:]):
        prefix = f'top.{j}'
        tensors = {
            'dwW': b.dw.weight.detach()[:, 0, :].T, 'dwB': b.dw.bias.detach(),
            'pwW': b.pw.weight.detach().T, 'pwB': b.pw.bias.detach(),
            'lnG': b.ln.weight.detach(), 'lnB': b.ln.bias.detach(),
        }
        for k, v in tensors.items():
            np.save(os.path.join(out, f'{prefix}.{k}.npy'), np.ascontiguousarray(v.numpy().astype('<f4')))
        names.append(prefix)
    return names


def write_exported(ck, ckpt, version):
    """Which checkpoint an export took (runs/<run>/exported-<version>.json, read by model-card.ts): best.pt is the
    best dev checkpoint so far, often earlier than the run's last one, and the run may go on training after the
    export. One file per version, so that exporting a candidate does not lose the record of the shipped one."""
    st = ck['state']
    info = {'version': version, 'checkpoint': os.path.abspath(ckpt), 'step': st['step'],
            'computeMinutes': round(st['elapsed'] / 60, 1), 'devError': round(st['best_cer'], 4),
            'date': time.strftime('%Y-%m-%d')}
    path = os.path.join(os.path.dirname(os.path.abspath(ckpt)), f'exported-{version}.json')
    with open(path + '.tmp', 'w') as f:
        json.dump(info, f, indent=1)
        f.write('\n')
    os.replace(path + '.tmp', path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ckpt', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--name', default='base-en')
    p.add_argument('--version', default='1.0.0')
    p.add_argument('--training-data', default='see MODEL_CARD.md')
    p.add_argument('--top', type=int, default=2, help='conv blocks shipped in trainable form (0: none)')
    p.add_argument('--description', default=None)
    a = p.parse_args()
    ck = torch.load(a.ckpt, map_location='cpu')
    model = CtcModel(**ck['config'])
    model.load_state_dict(ck['model'])
    # One wrapper, in eval mode: torch.onnx.export restores the module's training flag when it
    # returns, and a new nn.Module starts in training mode (dropout on).
    top = a.top if ck['config']['arch'] == 'conv' else 0
    enc = EncoderOnly(model, top).eval()
    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, 'encoder.onnx')
    dummy = torch.randn(1, 400, 80)
    outputs = ['encoder_out'] + (['encoder_top_in'] if top else [])
    torch.onnx.export(enc, (dummy,), onnx_path + '.tmp', input_names=['features'], output_names=outputs,
                      dynamic_axes={'features': {0: 'batch', 1: 'time'}, **{o: {0: 'batch', 1: 'frames'} for o in outputs}}, opset_version=14)
    os.replace(onnx_path + '.tmp', onnx_path)
    w = model.head.weight.detach().numpy().T.astype('<f4')  # (d, V)
    b = model.head.bias.detach().numpy().astype('<f4')
    np.save(os.path.join(a.out, 'head.weight.npy'), np.ascontiguousarray(w))
    np.save(os.path.join(a.out, 'head.bias.npy'), b)
    cfg = ck['config']
    vocab = ck.get('vocab', VOCAB)
    phones = vocab != VOCAB
    kind = 'phone-CTC' if phones else 'char-CTC'
    init = ck['state'].get('init')
    if init and init.get('grown'):
        origin = f"grown from {init['config']['layers']} blocks of the phone model ({init['computeMinutes']:.0f} CPU-min behind it)"
    else:
        origin = f"fine-tuned from the char model ({init['computeMinutes']:.0f} CPU-min)" if init else 'trained from scratch'
    sha = hashlib.sha256(open(onnx_path, 'rb').read()).hexdigest()
    manifest = {
        'format': 'adapt-asr-model', 'version': 1, 'name': a.name, 'modelVersion': a.version,
        'description': a.description or f"English {kind} {cfg['arch']} encoder ({cfg['layers']} layers, d={cfg['d']}), {origin} by recipes/base-en",
        'license': 'MIT (weights trained by the adapt-asr project on the corpus described in MODEL_CARD.md)',
        'trainingData': a.training_data,
        'frontEnd': {'type': 'features', 'preset': 'kaldi-fbank-80', 'normalization': {'type': 'utterance'}},
        'encoder': {
            'file': 'encoder.onnx', 'sha256': sha, 'kind': 'features',
            'input': {'name': 'features', 'layout': 'BTF'},
            'output': {'name': 'encoder_out', 'layout': 'BTD', 'type': 'hidden'},
            'frameShift': round(0.01 * cfg['stack'], 6), 'hiddenSize': cfg['d'],
            'chunkSeconds': 20, 'contextSeconds': 2,
        },
        'ctcHead': {'weights': 'head.weight.npy', 'bias': 'head.bias.npy', 'vocab': vocab, 'blank': 0},
    }
    if phones:
        n = write_pronunciations(os.path.join(a.out, 'pronunciations.txt.gz'))
        manifest['ctcHead']['pronunciations'] = 'pronunciations.txt.gz'
        print(f'pronunciations: {n} entries')
    if top:
        manifest['trainableTop'] = {'output': 'encoder_top_in', 'block': 'conv', 'kernel': cfg.get('kernel', 15), 'blocks': save_top(model, top, a.out)}
    with open(os.path.join(a.out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    # Parity: ONNX Runtime is not available to Python here, so the recipe checks it from Node
    # (recipes/base-en/check-export.ts); save a reference output for that check.
    enc.eval()
    with torch.no_grad():
        x = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 500, 80)).astype(np.float32))
        y = enc(x)
        y = (y[0] if top else y).numpy()
    run_dir = os.path.dirname(os.path.abspath(a.ckpt))
    np.save(os.path.join(run_dir, 'export-check-in.npy'), x.numpy()[0])
    np.save(os.path.join(run_dir, 'export-check-out.npy'), y[0])
    write_exported(ck, a.ckpt, a.version)
    print(f'exported {a.ckpt} -> {a.out}: encoder {os.path.getsize(onnx_path) / 1e6:.1f} MB, head {w.shape}')


if __name__ == '__main__':
    main()
