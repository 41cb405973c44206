"""Stage 4 of the base-en recipe: train the CTC acoustic model on adapt-asr's own features.

Targets are characters (--targets char) or cmudict phones with a word separator (--targets phone;
utterances with a word outside cmudict are left out). --init CKPT starts the encoder from another
run's checkpoint (e.g. the char model) with a new CTC head.

Resumable: a checkpoint (model, optimiser, step, data order, elapsed compute) is written atomically
at least every --ckpt-minutes and at the end; rerunning the same command continues from it.
Progress: one line per --log-every steps (step, loss, speed, ETA) and a dev line (CER/WER, greedy)
at each checkpoint (token and word error rates; for phones the "words" are phone strings). --minutes bounds this run's wall time (for pilots and for sessions).
Usage: /usr/bin/python3 recipes/base-en/train.py --work DIR --run NAME [--arch conformer] [--hours-total H]
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

sys.path.insert(0, os.path.dirname(__file__))
from model import CtcModel, count_params, vocab_for  # noqa: E402
from pron import load_cmudict, phone_targets  # noqa: E402

VAR_FLOOR = 1e-5  # lib/features/normalize.ts VARIANCE_FLOOR


def normalize(x):
    """Per-utterance mean-variance normalisation, as lib/features/normalize.ts normalizeUtterance."""
    x = x.astype(np.float64)
    m = x.mean(0)
    v = np.maximum(0, (x * x).mean(0) - m * m)
    return ((x - m) / np.sqrt(v + VAR_FLOOR)).astype(np.float32)


def load_split(work, manifest, feats_dir, vocab, lex=None, limit=None):
    """[(feats fp16, label ids, reference symbols, speaker)]; lex (cmudict) turns text into phones."""
    index = {c: i for i, c in enumerate(vocab)}
    items = []
    with open(os.path.join(work, 'manifests', manifest)) as f:
        for line in f:
            o = json.loads(line)
            name = os.path.splitext(os.path.basename(o['audio_filepath']))[0]
            path = os.path.join(feats_dir, name + '.npy')
            if not os.path.exists(path):
                continue
            symbols = phone_targets(o['text'], lex) if lex is not None else [c for c in o['text'] if c in index]
            if not symbols:
                continue
            x = np.load(path)
            labels = [index[c] for c in symbols]
            items.append((normalize(x).astype(np.float16), np.array(labels, dtype=np.int64), symbols, o.get('speaker', '')))
            if limit and len(items) >= limit:
                break
    return items


def batches(items, max_frames, rng):
    """Length-bucketed batches of at most max_frames padded frames, shuffled."""
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]) + rng.random() * 30)
    out, cur, longest = [], [], 0
    for i in order:
        n = len(items[i][0])
        if cur and max(longest, n) * (len(cur) + 1) > max_frames:
            out.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, n)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def mel_centres(n_mels=80, f_lo=20.0, f_hi=8000.0):
    """Centre frequencies (Hz) of kaldi-fbank-80's triangular filters (lib/features/presets.ts)."""
    mel = lambda f: 1127.0 * np.log(1 + f / 700.0)  # noqa: E731
    m = mel(f_lo) + (np.arange(n_mels) + 1) * (mel(f_hi) - mel(f_lo)) / (n_mels + 1)
    return 700.0 * (np.exp(m / 1127.0) - 1)


def vtlp_source_bins(alpha, n_mels=80, f_lo=20.0, f_hi=8000.0):
    """Fractional input bin read by each output bin under vocal tract length perturbation by alpha
    (Jaitly & Hinton 2013): frequencies scale by alpha up to a cut-off, then piecewise linearly so that
    f_hi stays put (Kaldi's VTLN warp). The output at f is the input at the warp's inverse of f."""
    c = mel_centres(n_mels, f_lo, f_hi)
    f_cut = 0.85 * f_hi / max(1.0, alpha)
    src = np.where(c <= alpha * f_cut, c / alpha, f_cut + (c - alpha * f_cut) * (f_hi - f_cut) / (f_hi - alpha * f_cut))
    return np.interp(src, c, np.arange(n_mels, dtype=np.float64))


def vtlp(x, alpha):
    """x [T, n_mels] log-mel frames warped by alpha (linear interpolation between bins)."""
    pos = vtlp_source_bins(alpha, x.shape[1])
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, x.shape[1] - 1)
    w = (pos - i0).astype(np.float32)
    return x[:, i0] * (1 - w) + x[:, i1] * w


def collate(items, idx, specaug, rng, vtlp_range=0.0):
    xs = [items[i][0] for i in idx]
    T = max(len(x) for x in xs)
    feats = np.zeros((len(xs), T, xs[0].shape[1]), dtype=np.float32)
    for b, x in enumerate(xs):
        feats[b, : len(x)] = vtlp(x.astype(np.float32), rng.uniform(1 - vtlp_range, 1 + vtlp_range)) if specaug and vtlp_range > 0 else x
        if specaug:
            for _ in range(2):  # frequency masks
                w = rng.integers(0, 16)
                f0 = rng.integers(0, 80 - w)
                feats[b, :, f0:f0 + w] = 0
            for _ in range(max(1, len(x) // 150)):  # time masks, about 10% of frames
                w = rng.integers(0, min(40, max(2, len(x) // 10)))
                t0 = rng.integers(0, max(1, len(x) - w))
                feats[b, t0:t0 + w] = 0
    lengths = torch.tensor([len(x) for x in xs])
    labels = [torch.from_numpy(items[i][1]) for i in idx]
    return torch.from_numpy(feats), lengths, torch.cat(labels), torch.tensor([len(l) for l in labels])


def greedy(logits, lengths, vocab):
    """Best path, collapsed: a list of symbols per utterance, words separated by one ' '."""
    ids = logits.argmax(-1)
    out = []
    for b in range(ids.shape[0]):
        prev, s = 0, []
        for t in ids[b, : lengths[b]].tolist():
            if t != prev and t != 0 and not (vocab[t] == ' ' and (not s or s[-1] == ' ')):
                s.append(vocab[t])
            prev = t
        if s and s[-1] == ' ':
            s.pop()
        out.append(s)
    return out


def words(symbols):
    return ' '.join(symbols).split('   ') if symbols else []


def edits(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def evaluate(model, items, vocab, max_frames=20000):
    model.eval()
    ce = cn = we = wn = 0
    with torch.no_grad():
        for idx in batches(items, max_frames, random.Random(0)):
            feats, lengths, _, _ = collate(items, idx, False, None)
            logits = model(feats, lengths)
            hyps = greedy(logits, model.encoder.out_lengths(lengths), vocab)
            for i, h in zip(idx, hyps):
                ref = items[i][2]
                ce += edits(ref, h)
                cn += len(ref)
                we += edits(words(ref), words(h))
                wn += len(words(ref))
    model.train()
    return ce / max(1, cn), we / max(1, wn)


def save_atomic(obj, path):
    tmp = path + '.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def grow(model, ck, cfg):
    """Load a checkpoint of the same model with fewer conv blocks into `model` (function-preserving):
    old block j goes to position j * k (k = new layers / old layers) and the blocks between start as
    identities (their LayerNorm gain and bias zero, so the residual branch outputs SiLU(0) = 0)."""
    old = ck['config']
    same = {k: v for k, v in cfg.items() if k != 'layers'} == {k: v for k, v in old.items() if k != 'layers'}
    if cfg['arch'] != 'conv' or not same or cfg['layers'] % old['layers']:
        sys.exit(f'--grow-from: {old} cannot grow into {cfg} (conv blocks only, same settings, layers a multiple of {old["layers"]})')
    k = cfg['layers'] // old['layers']
    src = ck['model']
    dst = model.state_dict()
    for name, v in src.items():
        if name.startswith('encoder.blocks.'):
            _, _, j, rest = name.split('.', 3)
            name = f'encoder.blocks.{int(j) * k}.{rest}'
        dst[name] = v.clone()
    for j in range(cfg['layers']):
        if j % k:
            dst[f'encoder.blocks.{j}.ln.weight'].zero_()
            dst[f'encoder.blocks.{j}.ln.bias'].zero_()
    model.load_state_dict(dst)


def grown_init(path, ck):
    """What a grown run starts from: the checkpoint, and all the compute behind it (its own and its init's)."""
    behind = ck['state']['elapsed'] / 60 + ck['state'].get('init', {}).get('computeMinutes', 0)
    return {'checkpoint': os.path.abspath(path), 'grown': True, 'computeMinutes': behind, 'ownMinutes': ck['state']['elapsed'] / 60, 'config': ck['config']}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--work', required=True)
    p.add_argument('--run', required=True)
    p.add_argument('--feats', default='feats/kaldi-fbank-80')
    p.add_argument('--arch', default='conformer')
    p.add_argument('--d', type=int, default=144)
    p.add_argument('--layers', type=int, default=8)
    p.add_argument('--heads', type=int, default=4)
    p.add_argument('--ff-mult', type=int, default=4)
    p.add_argument('--stack', type=int, default=4)
    p.add_argument('--dropout', type=float, default=0.1)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--warmup', type=int, default=800)
    p.add_argument('--max-frames', type=int, default=16000)
    p.add_argument('--hours-total', type=float, default=8.0, help='planned compute for the whole run (sets the LR schedule)')
    p.add_argument('--minutes', type=float, default=1e9, help='stop this invocation after this many minutes')
    p.add_argument('--ckpt-minutes', type=float, default=10)
    p.add_argument('--log-every', type=int, default=50)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--train-limit', type=int, default=None)
    p.add_argument('--dev-limit', type=int, default=150)
    p.add_argument('--targets', choices=['char', 'phone'], default='char')
    p.add_argument('--init', default=None, help='start the encoder from this checkpoint (new run only); the head is new')
    p.add_argument('--real-repeat', type=int, default=1, help='each epoch sees every real-speech (Kathleen) training utterance this many times')
    p.add_argument('--grow-from', default=None, help='start from this checkpoint (new run only) with more conv blocks: its blocks, input '
                   'projection and head are kept and the new blocks, interleaved, start as identities, so the grown model begins '
                   'where the checkpoint ended')
    p.add_argument('--vtlp', type=float, default=0.0, help='vocal tract length perturbation: each training utterance\'s '
                   'frequency axis warped by a factor drawn from [1 - VTLP, 1 + VTLP] (0: off)')
    p.add_argument('--keep-weights', action='store_true', help='also keep the weights of every checkpoint as '
                   'weights/step-<step>.pt (about 7 MB each), for averaging (average.py)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    run_dir = os.path.join(a.work, 'runs', a.run)
    os.makedirs(run_dir, exist_ok=True)
    ckpt_path = os.path.join(run_dir, 'last.pt')
    feats_dir = os.path.join(a.work, a.feats)
    t_load = time.time()
    vocab = vocab_for(a.targets)
    lex = load_cmudict() if a.targets == 'phone' else None
    train = load_split(a.work, 'train.jsonl', feats_dir, vocab, lex, a.train_limit)
    dev = load_split(a.work, 'tts-dev.jsonl', feats_dir, vocab, lex, a.dev_limit) + load_split(a.work, 'kathleen-dev.jsonl', feats_dir, vocab, lex, a.dev_limit)
    if a.real_repeat > 1:
        train = train + [x for x in train if x[3] == 'kathleen'] * (a.real_repeat - 1)
    hours = sum(len(x[0]) for x in train) / 360000
    print(f'loaded {len(train)} train utts ({hours:.2f} h), {len(dev)} dev in {time.time() - t_load:.0f} s; targets {a.targets} ({len(vocab)} symbols)', flush=True)

    cfg = dict(arch=a.arch, stack=a.stack, d=a.d, layers=a.layers, heads=a.heads, ff_mult=a.ff_mult, dropout=a.dropout)
    if a.targets != 'char':
        cfg['n_vocab'] = len(vocab)  # absent for char runs, so their checkpoints still match
    torch.manual_seed(0)
    model = CtcModel(**cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.98), weight_decay=1e-3)
    state = {'step': 0, 'epoch': 0, 'batch_in_epoch': 0, 'elapsed': 0.0, 'best_cer': 1.0, 'history': []}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        if ck['config'] != cfg:
            sys.exit(f'{ckpt_path}: made with {ck["config"]}, not {cfg}; use another --run')
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        state = ck['state']
        if state.get('init', {}).get('grown') and 'computeMinutes' not in state['init']:  # runs grown before this was recorded
            state['init'] = grown_init(state['init']['checkpoint'], torch.load(state['init']['checkpoint']))
        print(f'resumed at step {state["step"]}, epoch {state["epoch"]}, {state["elapsed"] / 60:.1f} min of compute so far', flush=True)
    elif a.init:
        init = torch.load(a.init)
        model.encoder.load_state_dict({k[len('encoder.'):]: v for k, v in init['model'].items() if k.startswith('encoder.')})
        state['init'] = {'checkpoint': os.path.abspath(a.init), 'computeMinutes': init['state']['elapsed'] / 60, 'config': init['config']}
        print(f'encoder initialised from {a.init} ({state["init"]["computeMinutes"]:.1f} min of compute)', flush=True)
    elif a.grow_from:
        src = torch.load(a.grow_from)
        grow(model, src, cfg)
        state['init'] = grown_init(a.grow_from, src)
        print(f'grown from {a.grow_from} ({state["init"]["computeMinutes"]:.1f} min of compute behind it)', flush=True)
    print(f'model {a.arch}: {count_params(model) / 1e6:.2f}M parameters, config {cfg}', flush=True)

    # LR: linear warm-up, then cosine decay over the planned compute (time-based, so it survives resumes).
    total_s = a.hours_total * 3600

    def lr_at(step, elapsed):
        warm = min(1.0, (step + 1) / a.warmup)
        return a.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / total_s))))

    def checkpoint(tag):
        cer, wer = evaluate(model, dev, vocab)
        state['history'].append({'step': state['step'], 'minutes': round(state['elapsed'] / 60, 1), 'dev_cer': round(cer, 4), 'dev_wer': round(wer, 4)})
        print(f'[{tag}] step {state["step"]} epoch {state["epoch"]} compute {state["elapsed"] / 60:.1f} min: dev CER {cer:.3f} WER {wer:.3f}', flush=True)
        blob = {'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'config': cfg, 'vocab': vocab}
        if cer < state['best_cer']:
            state['best_cer'] = cer
            save_atomic(blob, os.path.join(run_dir, 'best.pt'))
        save_atomic(blob, ckpt_path)
        if a.keep_weights:
            os.makedirs(os.path.join(run_dir, 'weights'), exist_ok=True)
            save_atomic({'model': model.state_dict(), 'state': {k: v for k, v in state.items() if k != 'history'}, 'config': cfg, 'vocab': vocab,
                         'dev': {'cer': cer, 'wer': wer}}, os.path.join(run_dir, 'weights', f'step-{state["step"]:06d}.pt'))
        with open(os.path.join(run_dir, 'history.json'), 'w') as f:
            json.dump(state['history'], f, indent=1)
        hours_seen = state['frames_seen'] / 360000 if 'frames_seen' in state else 0
        with open(os.path.join(run_dir, 'train-info.json'), 'w') as f:
            json.dump({'config': cfg, 'params': count_params(model), 'steps': state['step'], 'epochs': state['epoch'] + state['batch_in_epoch'] / max(1, n_batches[0]),
                       'computeMinutes': state['elapsed'] / 60, 'audioHoursSeen': hours_seen, 'args': ' '.join(sys.argv[1:]),
                       'targets': a.targets, 'trainUtterances': len(train), 'trainHours': hours, 'realRepeat': a.real_repeat, 'init': state.get('init')}, f, indent=1)

    n_batches = [len(batches(train, a.max_frames, random.Random(1000)))]
    rng_np = np.random.default_rng(state['step'])
    t_run = time.time()
    last_ckpt = time.time()
    losses, frames_done, t_log = [], 0, time.time()
    model.train()
    while state['elapsed'] < total_s and (time.time() - t_run) / 60 < a.minutes:
        order = batches(train, a.max_frames, random.Random(1000 + state['epoch']))
        for bi in range(state['batch_in_epoch'], len(order)):
            t0 = time.time()
            feats, lengths, labels, label_lengths = collate(train, order[bi], True, rng_np, a.vtlp)
            for g in opt.param_groups:
                g['lr'] = lr_at(state['step'], state['elapsed'])
            logits = model(feats, lengths)
            logp = F.log_softmax(logits, dim=-1).transpose(0, 1)
            loss = F.ctc_loss(logp, labels, model.encoder.out_lengths(lengths), label_lengths, zero_infinity=True)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            state['step'] += 1
            state['batch_in_epoch'] = bi + 1
            state['elapsed'] += time.time() - t0
            losses.append(loss.item())
            frames_done += int(lengths.sum())
            state['frames_seen'] = state.get('frames_seen', 0) + int(lengths.sum())
            if state['step'] % a.log_every == 0:
                dt = time.time() - t_log
                eta = (total_s - state['elapsed']) / 60
                print(f'step {state["step"]} epoch {state["epoch"]} loss {np.mean(losses):.3f} lr {lr_at(state["step"], state["elapsed"]):.2e} '
                      f'{frames_done / 100 / dt:.1f} audio-s/s compute {state["elapsed"] / 60:.1f} min ETA {eta:.0f} min', flush=True)
                losses, frames_done, t_log = [], 0, time.time()
            if time.time() - last_ckpt > a.ckpt_minutes * 60:
                checkpoint('ckpt')
                last_ckpt = time.time()
            if state['elapsed'] >= total_s or (time.time() - t_run) / 60 >= a.minutes:
                break
        else:
            state['epoch'] += 1
            state['batch_in_epoch'] = 0
    checkpoint('end')


if __name__ == '__main__':
    main()
