"""How much of the base encoder must be trainable to adapt it? A PyTorch probe (not part of the toolkit).

Fine-tunes the head plus the top K conv blocks of a base-en checkpoint on an accent's training features and
prints greedy test CER/WER after every epoch, for each K: an upper bound (test-set oracle over epochs) that
tells whether shipping more of the encoder in trainable form (`train --method top`) could reach a target.
Features: `adapt-asr features --manifest M --out-dir D --preset kaldi-fbank-80` of the train and test manifests.
Usage: /usr/bin/python3 recipes/accents/depth_probe.py --ckpt best.pt --feats D --train train.jsonl
       --test test.jsonl [--k 0,2,4,12] [--epochs 20] [--lr 5e-4] [--batch-frames 6000] [--out probe.json]
       /usr/bin/python3 recipes/accents/depth_probe.py --report NAME=probe.json [NAME=probe.json ...]
       (the second form prints a markdown table of the JSON results)
"""
import argparse
import datetime
import json
import os
import platform
import random
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'base-en'))
from model import VOCAB, CtcModel  # noqa: E402
from train import batches, collate, evaluate, normalize  # noqa: E402

CHAR = {c: i for i, c in enumerate(VOCAB)}


def norm_text(t):
    t = re.sub(r"[^a-z' ]", ' ', t.lower().replace('-', ' '))
    return ' '.join(t.split())


def load(manifest, feats):
    items = []
    for line in open(manifest):
        o = json.loads(line)
        name = os.path.splitext(os.path.basename(o['audio_filepath']))[0]
        text = norm_text(o['text'])
        x = np.load(os.path.join(feats, name + '.npy'))
        items.append((normalize(x).astype(np.float16), np.array([CHAR[c] for c in text], dtype=np.int64), text, o.get('speaker', '')))
    return items


def run(ck, k, train, test, epochs, lr, seed, batch_frames, kld=0.0):
    torch.manual_seed(seed)
    model = CtcModel(**ck['config'])
    model.load_state_dict(ck['model'])
    n = len(model.encoder.blocks)
    trainable = list(model.head.parameters())
    for p in model.parameters():
        p.requires_grad_(False)
    for b in model.encoder.blocks[n - k:] if k > 0 else []:
        trainable += list(b.parameters())
    if k > n:
        trainable += list(model.encoder.proj.parameters())
    for p in trainable:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(trainable, lr=lr, betas=(0.9, 0.98), weight_decay=1e-3)
    frozen = None
    if kld > 0:  # KL-divergence regularisation towards the base model's outputs (Yu et al., 2013)
        frozen = CtcModel(**ck['config'])
        frozen.load_state_dict(ck['model'])
        frozen.eval()
    rng = np.random.default_rng(seed)
    cer, wer = evaluate(model, test)
    curve = [{'epoch': 0, 'cer': cer, 'wer': wer}]
    print(f'k={k} epoch 0 test CER {cer:.3f} WER {wer:.3f}', flush=True)
    t0 = time.time()
    for e in range(1, epochs + 1):
        model.train()
        # Frozen blocks stay in eval mode (no dropout), as they would be as a frozen ONNX encoder.
        model.encoder.proj.eval() if k <= n else None
        for b in model.encoder.blocks[: n - k]:
            b.eval()
        losses = []
        for idx in batches(train, batch_frames, random.Random(seed * 1000 + e)):
            feats, lengths, labels, label_lengths = collate(train, idx, True, rng)
            logp = F.log_softmax(model(feats, lengths), dim=-1).transpose(0, 1)
            loss = F.ctc_loss(logp, labels, model.encoder.out_lengths(lengths), label_lengths, zero_infinity=True)
            if frozen is not None:
                with torch.no_grad():
                    pb = F.softmax(frozen(feats, lengths), dim=-1).transpose(0, 1)
                T2 = logp.shape[0]
                mask = (torch.arange(T2)[:, None] < model.encoder.out_lengths(lengths)[None, :]).float()
                kl = ((pb * (torch.log(pb + 1e-10) - logp)).sum(-1) * mask).sum() / mask.sum()
                loss = (1 - kld) * loss + kld * kl
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 5.0)
            opt.step()
            losses.append(loss.item())
        cer, wer = evaluate(model, test)
        curve.append({'epoch': e, 'loss': float(np.mean(losses)), 'cer': cer, 'wer': wer})
        print(f'k={k} epoch {e} loss {np.mean(losses):.3f} test CER {cer:.3f} WER {wer:.3f} ({time.time() - t0:.0f} s)', flush=True)
    return {'k': k, 'trainableParams': sum(p.numel() for p in trainable), 'curve': curve}


def report(pairs):
    print('| set | trainable | parameters | test CER base -> best (relative) | greedy WER base -> best (relative) | epoch of best CER | final train loss |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    notes = []
    for pair in pairs:
        name, file = pair.split('=', 1)
        d = json.load(open(file))
        notes.append(f"{name}: measured {d.get('date', '?')} on {d.get('machine', '?')}; {d['epochs']} epochs, lr {d['lr']}, batches of {d.get('batchFrames', 6000)} feature frames.")
        for r in d['results']:
            c = r['curve']
            b = min(c[1:], key=lambda x: x['cer'])
            w = min(c[1:], key=lambda x: x['wer'])
            what = 'head only' if r['k'] == 0 else f"top {r['k']} of {d.get('blocks', 12)} blocks + head"
            print(f"| {name} | {what} | {r['trainableParams']:,} | {100 * c[0]['cer']:.1f}% -> {100 * b['cer']:.1f}% ({100 * (1 - b['cer'] / c[0]['cer']):.1f}%) | "
                  f"{100 * c[0]['wer']:.1f}% -> {100 * w['wer']:.1f}% ({100 * (1 - w['wer'] / c[0]['wer']):.1f}%) | {b['epoch']} of {len(c) - 1} | {c[-1]['loss']:.2f} |")
    print()
    print(' '.join(notes))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--report':
        return report(sys.argv[2:])
    p = argparse.ArgumentParser()
    p.add_argument('--ckpt', required=True)
    p.add_argument('--feats', required=True)
    p.add_argument('--train', required=True)
    p.add_argument('--test', required=True)
    p.add_argument('--k', default='0,2,4,12')
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--lr', type=float, default=5e-4)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--kld', type=float, default=0.0, help='weight of KL(base || adapted) per frame, 0-1')
    p.add_argument('--batch-frames', type=int, default=6000, help='padded 10-ms feature frames per batch')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--out', default=None)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    ck = torch.load(a.ckpt)
    train, test = load(a.train, a.feats), load(a.test, a.feats)
    print(f'{len(train)} train utts ({sum(len(x[0]) for x in train) / 6000:.1f} min), {len(test)} test', flush=True)
    results = []
    for k in a.k.split(','):
        results.append(run(ck, int(k), train, test, a.epochs, a.lr, a.seed, a.batch_frames, a.kld))
        if a.out:  # after each K, so that a stopped probe keeps what it measured
            with open(a.out + '.tmp', 'w') as f:
                json.dump({'date': datetime.date.today().isoformat(), 'machine': f'{os.cpu_count()} cores, {platform.processor() or platform.machine()}, torch {torch.__version__}, {a.threads} thread(s)',
                           'command': ' '.join(sys.argv), 'blocks': ck['config']['layers'], 'ckpt': a.ckpt, 'lr': a.lr, 'epochs': a.epochs, 'batchFrames': a.batch_frames, 'kld': a.kld, 'results': results}, f, indent=1)
            os.replace(a.out + '.tmp', a.out)


if __name__ == '__main__':
    main()
