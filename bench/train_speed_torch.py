"""The adapter and head of `adapt-asr train` (method adapter, default hyper-parameters) trained in
PyTorch on the same cached encoder outputs, for bench/train-speed: seconds per epoch.
Model: LayerNorm -> concat of `context` frames -> Linear(ctx*d, r) -> ReLU -> dropout ->
Linear(r, d), added to the input -> CTC head Linear(d, V); CTC loss per label, Adam(0.9, 0.98)
with the head at its own rate, gradient norm clipped at 5, batches of <= batch_frames padded
frames, SpecAugment-style time and feature masks on the inputs.
Usage: /usr/bin/python3 bench/train_speed_torch.py DATA_DIR THREADS EPOCHS
DATA_DIR holds frames.npy (sum T, d), head_w.npy (d, V), head_b.npy (V) and meta.json."""
import json
import os
import random
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

data_dir, threads, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(1)
random.seed(1)
meta = json.load(open(os.path.join(data_dir, 'meta.json')))
frames = torch.from_numpy(np.load(os.path.join(data_dir, 'frames.npy')))
head_w = torch.from_numpy(np.load(os.path.join(data_dir, 'head_w.npy')))
head_b = torch.from_numpy(np.load(os.path.join(data_dir, 'head_b.npy')))
cfg = meta['config']
d, V, r, ctx = frames.shape[1], head_w.shape[1], cfg['bottleneck'], cfg['context']
examples, off = [], 0
for T, labels in zip(meta['T'], meta['labels']):
    examples.append((frames[off:off + T], torch.tensor(labels, dtype=torch.long)))
    off += T


class Adapter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = torch.nn.LayerNorm(d, eps=1e-5)
        self.down = torch.nn.Linear(ctx * d, r)
        self.up = torch.nn.Linear(r, d)
        torch.nn.init.zeros_(self.up.weight)
        torch.nn.init.zeros_(self.up.bias)
        self.head = torch.nn.Linear(d, V)
        with torch.no_grad():
            self.head.weight.copy_(head_w.T)
            self.head.bias.copy_(head_b)

    def forward(self, h):
        n = self.ln(h)
        k = (ctx - 1) // 2
        p = F.pad(n, (0, 0, k, k))
        c = torch.cat([p[:, j:j + h.shape[1]] for j in range(ctx)], dim=2)
        z = F.dropout(F.relu(self.down(c)), cfg['dropout'], self.training)
        return self.head(h + self.up(z))


model = Adapter()
head_params = list(model.head.parameters())
adapter_params = [p for n, p in model.named_parameters() if not n.startswith('head.')]
opt = torch.optim.Adam([{'params': adapter_params, 'lr': cfg['lr']}, {'params': head_params, 'lr': cfg['headLr']}], betas=(0.9, 0.98))


def batches():
    order = sorted(examples, key=lambda e: e[0].shape[0] + (random.random() - 0.5) * 20)
    out, cur = [], []
    for e in order:
        longest = max([e[0].shape[0]] + [x[0].shape[0] for x in cur])
        if cur and longest * (len(cur) + 1) > cfg['batchFrames']:
            out.append(cur)
            cur = []
        cur.append(e)
    if cur:
        out.append(cur)
    random.shuffle(out)
    return out


def mask(x, T):
    masked = 0
    while masked < cfg['timeMask'] * T:
        w = 1 + int(random.random() * min(10, max(1, T * cfg['timeMask'])))
        t0 = int(random.random() * max(1, T - w))
        x[t0:t0 + w] = 0
        masked += w
    fw = int(random.random() * cfg['featureMask'] * d * 2)
    if fw > 0:
        f0 = int(random.random() * (d - fw))
        x[:T, f0:f0 + fw] = 0


def epoch():
    model.train()
    for batch in batches():
        B, T = len(batch), max(e[0].shape[0] for e in batch)
        x = torch.zeros(B, T, d)
        for b, (f, _) in enumerate(batch):
            x[b, :f.shape[0]] = f
            mask(x[b], f.shape[0])
        logp = F.log_softmax(model(x), dim=-1).transpose(0, 1)  # (T, B, V)
        targets = torch.cat([e[1] for e in batch])
        loss = F.ctc_loss(logp, targets, torch.tensor([e[0].shape[0] for e in batch]), torch.tensor([len(e[1]) for e in batch]),
                          blank=meta['blank'], reduction='mean', zero_infinity=True)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        with torch.no_grad():  # decoupled weight decay of the matrices, as adapt-asr does
            for group in opt.param_groups:
                for p in group['params']:
                    if p.dim() == 2:
                        p.mul_(1 - group['lr'] * cfg['weightDecay'])


times = []
for i in range(epochs):
    t0 = time.perf_counter()
    epoch()
    times.append(time.perf_counter() - t0)
print(json.dumps({'epochSec': times, 'torch': torch.__version__, 'threads': threads}))
