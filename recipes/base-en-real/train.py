"""Stage 3 of recipes/base-en-real: train a small trunk and phone-CTC head on the PocketSphinx phone-state
log posteriors (stage 2), then export encoder.onnx = ptm.onnx followed by the trunk, and the head.

The acoustic model is frozen: it was trained by CMU on many real speakers. What is learned here is how
its 126 phone-state scores per 10 ms map to CTC phone emissions at 30 ms: 3 frames stacked, a linear
projection, 4 residual conv blocks (kernel 3, dilations 1 2 4 1: +-8 frames of context) and the
41-way phone head of base-en. Full convolutions, not depthwise ones: measured 3x faster per step on
this CPU build of PyTorch.
Targets are base-en's: each word's first cmudict pronunciation, stress removed, ' ' between words.
Model selection: greedy phone error rate on Kathleen's dev prompts (never p239, never zh-L1).

Usage: /usr/bin/python3 recipes/base-en-real/train.py --work DIR [--epochs 40] [--threads 2]
Writes DIR/run/best.pt, DIR/run/log.jsonl; with --export OUT, OUT/encoder.onnx, head.*.npy, trunk.json.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'base-en'))
from model import vocab_for  # noqa: E402
from pron import load_cmudict, phone_targets  # noqa: E402

PHONES = vocab_for('phone')
ARCH = dict(n_in=126, stack=3, d=256, kernel=3, dilations=[1, 2, 4, 1], dropout=0.15, senone_topk=32, n_senones=5126, senone_dim=64)


class Block(torch.nn.Module):
    def __init__(self, d, k, dilation, p):
        super().__init__()
        self.conv = torch.nn.Conv1d(d, d, k, padding=dilation * (k // 2), dilation=dilation)
        self.ln = torch.nn.LayerNorm(d)
        self.drop = torch.nn.Dropout(p)

    def forward(self, x):  # (B, T, d)
        return x + self.drop(F.gelu(self.ln(self.conv(x.transpose(1, 2)).transpose(1, 2))))


class Trunk(torch.nn.Module):
    """(B, T, 126 + 2K) ptm_features (scaled) -> (B, T // stack, d).

    Per 10 ms frame: the 126 phone-state scores, and an embedding of the K best senones, each
    weighted by softmax(its log-likelihood ratio * a learned sharpness) -- what triphone fits."""

    def __init__(self, n_in, stack, d, kernel, dilations, dropout, senone_topk=0, n_senones=0, senone_dim=0, senone_drop=0.0):
        super().__init__()
        self.stack, self.n_in, self.k, self.senone_drop = stack, n_in, senone_topk, senone_drop
        if senone_topk:
            self.senones = torch.nn.Embedding(n_senones, senone_dim)
            torch.nn.init.normal_(self.senones.weight, std=0.3)
            self.sharpness = torch.nn.Parameter(torch.tensor(5.0))  # the scaled ratios are in [-5, 0]
        width = n_in + (senone_dim if senone_topk else 0)
        self.proj = torch.nn.Sequential(torch.nn.Linear(width * stack, d), torch.nn.LayerNorm(d), torch.nn.Dropout(dropout))
        self.blocks = torch.nn.ModuleList([Block(d, kernel, r, dropout) for r in dilations])

    def out_lengths(self, lengths):
        return lengths // self.stack

    def forward(self, x):
        if self.k:
            idx = (x[..., self.n_in:self.n_in + self.k] / LOGPOST_SCALE).round().long().clamp(0, self.senones.num_embeddings - 1)
            w = torch.softmax(x[..., self.n_in + self.k:] * self.sharpness, dim=-1)
            if torch.onnx.is_in_onnx_export():  # Gather, Mul, ReduceSum: the same sum, in plain ONNX ops
                bag = (w.unsqueeze(-1) * self.senones(idx)).sum(-2)
            else:  # the fused kernel: 3x faster a step than materialising (B, T, K, dim)
                B0, T0, _ = idx.shape
                bag = F.embedding_bag(idx.reshape(B0 * T0, self.k), self.senones.weight, per_sample_weights=w.reshape(B0 * T0, self.k), mode='sum').reshape(B0, T0, -1)
            if self.training and self.senone_drop > 0:  # whole utterances without the senone embedding
                keep = (torch.rand(bag.shape[0], 1, 1) >= self.senone_drop).float() / (1 - self.senone_drop)
                bag = bag * keep
            x = torch.cat([x[..., :self.n_in], bag], dim=-1)
        B, T, Fd = x.shape
        T2 = T // self.stack
        h = self.proj(x[:, :T2 * self.stack].reshape(B, T2, Fd * self.stack))
        for b in self.blocks:
            h = b(h)
        return h


class CtcModel(torch.nn.Module):
    def __init__(self, n_vocab, **arch):
        super().__init__()
        self.encoder = Trunk(**arch)
        self.head = torch.nn.Linear(arch['d'], n_vocab)

    def forward(self, x):
        return self.head(self.encoder(x))


def count_params(m):
    return sum(p.numel() for p in m.parameters())
LOGPOST_SCALE = 0.1  # inputs are log-likelihood ratios in [-50, 0] nats; scaled to [-5, 0]
FLOOR = -50.0 * LOGPOST_SCALE


def load_utts(work):
    lex = load_cmudict()
    index = {p: i for i, p in enumerate(PHONES)}
    utts = []
    for name in sorted(os.listdir(work)):
        if not (name.startswith('utts-') and name.endswith('.jsonl')):
            continue
        for line in open(os.path.join(work, name)):
            u = json.loads(line)
            t = phone_targets(u['text'], lex)
            if t is None:
                continue
            u['target'] = [index[p] for p in t]
            utts.append(u)
    return utts


def load_feats(u):
    # indices stay as they are scaled too: the trunk divides them back (exact: integers < 2^24 times 0.1)
    return np.load(u['npy']).astype(np.float32) * LOGPOST_SCALE


def batches(utts, max_frames, rnd):
    order = sorted(utts, key=lambda u: u['frames'] + rnd.random() * 30)
    out, cur = [], []
    for u in order:
        if cur and (len(cur) + 1) * max(u['frames'], cur[-1]['frames']) > max_frames:
            out.append(cur)
            cur = []
        cur.append(u)
    if cur:
        out.append(cur)
    rnd.shuffle(out)
    return out


def collate(batch, cache, augment, rnd):
    T = max(u['frames'] for u in batch)
    width = 126 + 2 * ARCH['senone_topk']
    x = np.zeros((len(batch), T, width), np.float32)
    x[:] = FLOOR
    x[:, :, 126:126 + ARCH['senone_topk']] = 0.0  # padding frames: senone 0 with ratio FLOOR
    for i, u in enumerate(batch):
        f = cache[u['id']]
        if augment:  # time masks and state masks, SpecAugment-style
            f = f.copy()
            n = len(f)
            for _ in range(max(1, n // 150)):
                w = rnd.randint(0, 12)
                s = rnd.randint(0, max(0, n - w))
                f[s:s + w] = FLOOR
            for _ in range(2):
                w = rnd.randint(0, 12)
                s = rnd.randint(0, 126 - w)
                f[:, s:s + w] = FLOOR
            if ARCH['senone_topk']:  # drop a few of the best senones now and then
                drop = np.random.default_rng(rnd.randint(0, 2**31)).random(f[:, 126 + ARCH['senone_topk']:].shape) < 0.1
                f[:, 126 + ARCH['senone_topk']:][drop] = FLOOR
        x[i, :len(f)] = f
    lengths = torch.tensor([u['frames'] for u in batch])
    targets = torch.tensor([p for u in batch for p in u['target']])
    tlens = torch.tensor([len(u['target']) for u in batch])
    return torch.from_numpy(x), lengths, targets, tlens


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(b)]


def greedy_per(model, utts, cache):
    model.eval()
    errs = n = 0
    with torch.no_grad():
        for u in utts:
            y = model(torch.from_numpy(cache[u['id']])[None])[0].argmax(-1).tolist()
            hyp, prev = [], 0
            for p in y:
                if p != prev and p != 0:
                    hyp.append(p)
                prev = p
            errs += edit_distance(hyp, u['target'])
            n += len(u['target'])
    model.train()
    return errs / max(n, 1)


def train(a):
    torch.manual_seed(a.seed)
    rnd = random.Random(a.seed)
    torch.set_num_threads(a.threads)
    utts = load_utts(a.work)
    tr = [u for u in utts if u['split'] == 'train']
    dev = [u for u in utts if u['split'] == 'dev']
    ttsdev = [u for u in utts if u['split'] == 'ttsdev']  # held-out voices (synth-probe.py), when present
    cache = {u['id']: load_feats(u) for u in tr + dev + ttsdev}
    arch = {**ARCH, 'senone_drop': a.senone_drop}
    model = CtcModel(n_vocab=len(PHONES), **arch)
    if a.init:
        model.load_state_dict(torch.load(a.init)['state'])
    print(f'{len(tr)} train / {len(dev)} dev utterances, {sum(u["frames"] for u in tr) / 6000:.1f} train minutes; {count_params(model)} parameters')
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    steps_per_epoch = len(batches(tr, a.batch_frames, random.Random(0)))
    total = int(steps_per_epoch * a.epochs * 1.05) + 10  # batches per epoch vary a little with the length jitter
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total, pct_start=0.1)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    run = os.path.join(a.work, 'run')
    os.makedirs(run, exist_ok=True)
    log = open(os.path.join(run, 'log.jsonl'), 'w')
    best = math.inf
    t0 = time.time()
    for epoch in range(1, a.epochs + 1):
        losses = []
        for b in batches(tr, a.batch_frames, rnd):
            x, lengths, targets, tlens = collate(b, cache, True, rnd)
            logp = F.log_softmax(model(x), -1)                       # (B, T', V)
            olens = model.encoder.out_lengths(lengths)
            loss = ctc(logp.transpose(0, 1), targets, olens, tlens)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
        per = greedy_per(model, dev, cache)
        rec = {'epoch': epoch, 'loss': float(np.mean(losses)), 'devPER': per, 'minutes': (time.time() - t0) / 60}
        if ttsdev:  # select on unseen voices and Kathleen's dev prompts alike
            rec['ttsDevPER'] = greedy_per(model, ttsdev, cache)
            per = (per + rec['ttsDevPER']) / 2
        log.write(json.dumps(rec) + '\n')
        log.flush()
        print(json.dumps(rec))
        if per < best:
            best = per
            torch.save({'state': model.state_dict(), 'arch': arch, 'epoch': epoch, 'devPER': per, 'scale': LOGPOST_SCALE}, os.path.join(run, 'best.pt'))
    print(f'best dev PER {best:.4f}')


class Scaled(torch.nn.Module):
    """ptm.onnx's ptm_features (1, T, 126 + 2K) -> hidden (1, T // 3, d), the input scale folded in."""

    def __init__(self, model, scale):
        super().__init__()
        self.encoder, self.scale = model.encoder, scale

    def forward(self, x):
        return self.encoder(x * self.scale)


def export(a):
    import onnx
    from onnx import compose
    ck = torch.load(os.path.join(a.work, 'run', 'best.pt'))
    model = CtcModel(n_vocab=len(PHONES), **ck['arch'])
    model.load_state_dict(ck['state'])
    model.eval()
    trunk = Scaled(model, ck['scale']).eval()  # a new wrapper starts in training mode; export restores it
    path = os.path.join(a.work, 'trunk.onnx')
    x = torch.cat([torch.randn(1, 300, 126) - 5, torch.randint(0, 5126, (1, 300, ARCH['senone_topk'])).float(), -torch.rand(1, 300, ARCH['senone_topk']) * 50], -1)
    torch.onnx.export(trunk, (x,), path, input_names=['trunk_in'], output_names=['encoder_out'],
                      dynamic_axes={'trunk_in': {1: 'time'}, 'encoder_out': {1: 'time_out'}}, opset_version=17)
    ptm = onnx.load(os.path.join(a.work, 'ptm.onnx'))
    tr = onnx.load(path)
    merged = compose.merge_models(ptm, tr, io_map=[('ptm_features', 'trunk_in')], outputs=['encoder_out', 'senone_loglik', 'state_logpost'])
    merged.producer_name = 'adapt-asr recipes/base-en-real'
    onnx.checker.check_model(merged)
    os.makedirs(a.export, exist_ok=True)
    onnx.save(merged, os.path.join(a.export, 'encoder.onnx'))
    w = model.head.weight.detach().numpy().T.astype('<f4')  # (d, V)
    np.save(os.path.join(a.export, 'head.weight.npy'), np.ascontiguousarray(w))
    np.save(os.path.join(a.export, 'head.bias.npy'), model.head.bias.detach().numpy().astype('<f4'))
    with torch.no_grad():
        y = trunk(x)
    np.save(os.path.join(a.work, 'trunk-check-in.npy'), x.numpy()[0])
    np.save(os.path.join(a.work, 'trunk-check-out.npy'), y.numpy()[0])
    json.dump({'arch': ck['arch'], 'epoch': ck['epoch'], 'devPER': ck['devPER'], 'scale': ck['scale'], 'parameters': count_params(model), 'vocab': PHONES},
              open(os.path.join(a.export, 'trunk.json'), 'w'), indent=1)
    import hashlib
    sha = hashlib.sha256(open(os.path.join(a.export, 'encoder.onnx'), 'rb').read()).hexdigest()
    manifest = {
        'format': 'adapt-asr-model', 'version': 1, 'name': a.name, 'modelVersion': a.version,
        'description': ("English phone-CTC model on real speech: PocketSphinx's en-us acoustic model (CMU, trained on many real "
                        f"speakers) as a frozen ONNX encoder, then a {count_params(model) // 1000}k-parameter conv trunk and head trained by "
                        'recipes/base-en-real on one real speaker (Kathleen)'),
        'license': 'BSD-2-Clause (acoustic model and LM: CMU / Alpha Cephei, Debian pocketsphinx-en-us); trunk and head MIT (adapt-asr); see MODEL_CARD.md',
        'trainingData': 'see MODEL_CARD.md',
        'frontEnd': {'type': 'features', 'preset': 'sphinx-mfcc-13', 'normalization': {'type': 'mean'}},
        'encoder': {
            'file': 'encoder.onnx', 'sha256': sha, 'kind': 'features',
            'input': {'name': 'features', 'layout': 'BTF'},
            'output': {'name': 'encoder_out', 'layout': 'BTD', 'type': 'hidden'},
            'frameShift': round(0.01 * ck['arch']['stack'], 6), 'hiddenSize': ck['arch']['d'],
            'chunkSeconds': 10, 'contextSeconds': 1,
        },
        'ctcHead': {'weights': 'head.weight.npy', 'bias': 'head.bias.npy', 'vocab': PHONES, 'blank': 0,
                    'pronunciations': 'pronunciations.txt.gz', 'g2p': 'g2p.txt.gz'},
        'decoding': {'beam': 16, 'lmWeight': 0.8, 'wordBonus': 0, 'noLmWordBonus': -2, 'lexicon': False},
    }
    path_json = os.path.join(a.export, 'model.json')
    with open(path_json + '.tmp', 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    os.replace(path_json + '.tmp', path_json)
    print(f'exported epoch {ck["epoch"]} (dev PER {ck["devPER"]:.4f}) to {a.export}')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--work', required=True)
    ap.add_argument('--epochs', type=int, default=40)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--batch-frames', type=int, default=12000)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--init', help='start from this checkpoint (best.pt of an earlier run)')
    ap.add_argument('--senone-drop', type=float, default=0.0, help='drop the senone embedding for this share of utterances')
    ap.add_argument('--export', help='export the best checkpoint to this folder instead of training')
    ap.add_argument('--name', default='base-en-real')
    ap.add_argument('--version', default='1.0.0')
    a = ap.parse_args()
    if a.export:
        export(a)
    else:
        train(a)
