"""A PyTorch checkpoint rebuilt from a shipped model folder (encoder.onnx + head.*.npy + model.json), so that
training can go on from the shipped weights on a machine that no longer has the run that made them:
    train.py --grow-from CKPT --layers L ...   (L a multiple of the shipped model's blocks; equal: a warm restart)
    train.py --init CKPT ...                   (the encoder only, a new head)
The optimizer state is not in the model folder, so training restarts it (a warm restart with a new warm-up).
Only the conv architecture is supported (the one base-en ships). The ONNX parameters keep their PyTorch names,
except the Linear weights, which the exporter turned into MatMul constants (transposed); those are found through
the MatMul node that uses them. The compute behind the model is taken from --compute-minutes (MODEL_CARD.md).
Check the result with export.py + check-export.ts (the shipped ONNX must reproduce the rebuilt model's output).
Usage: /usr/bin/python3 recipes/base-en/from-onnx.py --model models/base-en --out RUN/shipped.pt --compute-minutes 818
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from model import VOCAB, CtcModel  # noqa: E402


def onnx_state(path):
    """PyTorch-named tensors of encoder.onnx: named initializers as they are, MatMul constants by their node."""
    g = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    state = {k: v for k, v in inits.items() if k.startswith('encoder.')}
    for node in g.node:
        if node.op_type != 'MatMul':
            continue
        const = [x for x in node.input if x in inits and not x.startswith('encoder.')]
        if not const:
            continue
        m = re.fullmatch(r'/(?:blocks\.(\d+)/pw|proj/proj\.0)/MatMul', node.name)
        if not m:
            sys.exit(f'{path}: unexpected MatMul node {node.name}; not a conv base-en encoder')
        name = f'encoder.blocks.{m.group(1)}.pw.weight' if m.group(1) else 'encoder.proj.0.weight'
        state[name] = inits[const[0]].T.copy()  # the exporter stores nn.Linear's weight transposed, (in, out)
    return state


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True, help='a model folder: encoder.onnx, head.weight.npy, head.bias.npy, model.json')
    p.add_argument('--out', required=True)
    p.add_argument('--compute-minutes', type=float, required=True, help='CPU-minutes of training behind the model (its card)')
    p.add_argument('--dropout', type=float, default=0.1, help='as the shipped model was trained (train.py default)')
    a = p.parse_args()
    manifest = json.load(open(os.path.join(a.model, 'model.json')))
    vocab = manifest['ctcHead']['vocab']
    enc = onnx_state(os.path.join(a.model, manifest['encoder']['file']))
    layers = 1 + max(int(k.split('.')[2]) for k in enc if k.startswith('encoder.blocks.'))
    d, kernel = enc['encoder.blocks.0.dw.weight'].shape[0], enc['encoder.blocks.0.dw.weight'].shape[2]
    n_mels = 80
    stack = enc['encoder.proj.0.weight'].shape[1] // n_mels
    cfg = dict(arch='conv', stack=stack, d=d, layers=layers, heads=4, ff_mult=4, dropout=a.dropout)
    if len(vocab) != len(VOCAB):
        cfg['n_vocab'] = len(vocab)  # as train.py: absent for character models
    model = CtcModel(**cfg)
    if kernel != model.encoder.config['kernel']:
        sys.exit(f'{a.model}: kernel {kernel}, but model.py builds {model.encoder.config["kernel"]}')
    sd = model.state_dict()
    head_w = np.load(os.path.join(a.model, manifest['ctcHead']['weights']))  # (d, V)
    head_b = np.load(os.path.join(a.model, manifest['ctcHead']['bias']))
    found = {**enc, 'head.weight': head_w.T.copy(), 'head.bias': head_b}
    missing = sorted(set(sd) - set(found))
    extra = sorted(set(found) - set(sd))
    if missing or extra:
        sys.exit(f'{a.model}: does not match model.py (missing {missing[:5]}, unexpected {extra[:5]})')
    for k, v in found.items():
        if tuple(v.shape) != tuple(sd[k].shape):
            sys.exit(f'{a.model}: {k} has shape {v.shape}, model.py expects {tuple(sd[k].shape)}')
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in found.items()})
    # The fields train.py reads from a checkpoint it grows from or initialises with.
    state = {'step': 0, 'epoch': 0, 'elapsed': a.compute_minutes * 60, 'best_cer': 1.0, 'history': [],
             'fromOnnx': {'model': os.path.abspath(a.model), 'modelVersion': manifest.get('modelVersion')}}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + '.tmp'
    torch.save({'model': model.state_dict(), 'state': state, 'config': cfg, 'vocab': vocab}, tmp)
    os.replace(tmp, a.out)
    n = sum(v.numel() for v in model.parameters())
    print(f'{a.out}: {layers} conv blocks, d={d}, stack {stack}, {len(vocab)} symbols, {n / 1e6:.2f}M parameters, '
          f'{a.compute_minutes:.0f} CPU-minutes behind it', flush=True)


if __name__ == '__main__':
    main()
