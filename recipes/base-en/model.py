"""Acoustic model definitions for the base-en recipe (PyTorch; exported to ONNX by export.py).

Input: utterance-normalised kaldi-fbank-80 frames (10 ms), [batch, time, 80]. Frames are stacked
`stack` at a time (a reshape, no learned subsampling), projected to d, then a stack of blocks;
output [batch, time // stack, d] hidden states, then a linear CTC head over the 29 characters (VOCAB) or
the 39 cmudict phones plus word separator (PHONES).

- conformer: macaron FF/2 -> MHSA -> depthwise conv (k=15) -> FF/2 -> LN (Gulati et al. 2020),
  without relative positions (the conv module carries position).
- conv: residual depthwise-separable Conv1d blocks (QuartzNet-like).
- gru: bidirectional GRU layers.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = ['<blank>', ' ', "'"] + list('abcdefghijklmnopqrstuvwxyz')
# ARPAbet without stress (cmudict's 39 phones); ' ' separates words, as in the char vocabulary.
PHONES = ['<blank>', ' '] + 'AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH'.split()


def vocab_for(targets):
    return {'char': VOCAB, 'phone': PHONES}[targets]


class FeedForward(nn.Module):
    def __init__(self, d, mult, p):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d * mult), nn.SiLU(), nn.Dropout(p), nn.Linear(d * mult, d), nn.Dropout(p))

    def forward(self, x):
        return self.net(x)


class ConvModule(nn.Module):
    def __init__(self, d, k, p):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.pw1 = nn.Linear(d, 2 * d)
        self.dw = nn.Conv1d(d, d, k, padding=k // 2, groups=d)
        self.norm = nn.LayerNorm(d)  # LayerNorm, not BatchNorm: no train/eval mismatch on tiny batches
        self.pw2 = nn.Linear(d, d)
        self.drop = nn.Dropout(p)

    def forward(self, x):  # [B, T, d]
        y = F.glu(self.pw1(self.ln(x)), dim=-1)
        y = self.dw(y.transpose(1, 2)).transpose(1, 2)
        return self.drop(self.pw2(F.silu(self.norm(y))))


class ConformerBlock(nn.Module):
    def __init__(self, d, heads, ff_mult, k, p):
        super().__init__()
        self.ff1 = FeedForward(d, ff_mult, p)
        self.ln_att = nn.LayerNorm(d)
        self.att = nn.MultiheadAttention(d, heads, dropout=p, batch_first=True)
        self.drop = nn.Dropout(p)
        self.conv = ConvModule(d, k, p)
        self.ff2 = FeedForward(d, ff_mult, p)
        self.ln = nn.LayerNorm(d)

    def forward(self, x, pad_mask=None):
        x = x + 0.5 * self.ff1(x)
        h = self.ln_att(x)
        x = x + self.drop(self.att(h, h, h, key_padding_mask=pad_mask, need_weights=False)[0])
        x = x + self.conv(x)
        x = x + 0.5 * self.ff2(x)
        return self.ln(x)


class ConvBlock(nn.Module):
    def __init__(self, d, k, p):
        super().__init__()
        self.dw = nn.Conv1d(d, d, k, padding=k // 2, groups=d)
        self.pw = nn.Linear(d, d)
        self.ln = nn.LayerNorm(d)
        self.drop = nn.Dropout(p)

    def forward(self, x, pad_mask=None):
        y = self.dw(x.transpose(1, 2)).transpose(1, 2)
        return x + self.drop(F.silu(self.ln(self.pw(y))))


class Encoder(nn.Module):
    def __init__(self, arch='conformer', n_mels=80, stack=4, d=144, layers=8, heads=4, ff_mult=4, kernel=15, dropout=0.1):
        super().__init__()
        self.config = dict(arch=arch, n_mels=n_mels, stack=stack, d=d, layers=layers, heads=heads, ff_mult=ff_mult, kernel=kernel, dropout=dropout)
        self.stack = stack
        self.proj = nn.Sequential(nn.Linear(n_mels * stack, d), nn.LayerNorm(d), nn.Dropout(dropout))
        if arch == 'conformer':
            self.blocks = nn.ModuleList([ConformerBlock(d, heads, ff_mult, kernel, dropout) for _ in range(layers)])
        elif arch == 'conv':
            self.blocks = nn.ModuleList([ConvBlock(d, kernel, dropout) for _ in range(layers)])
        elif arch == 'gru':
            self.gru = nn.GRU(d, d // 2, num_layers=layers, batch_first=True, bidirectional=True, dropout=dropout)
            self.blocks = nn.ModuleList()
        else:
            raise ValueError(arch)
        self.arch = arch

    def out_lengths(self, lengths):
        return lengths // self.stack

    def forward(self, feats, lengths=None):
        """feats [B, T, n_mels] -> hidden [B, T // stack, d]."""
        B, T, Fm = feats.shape
        T2 = T // self.stack
        x = self.proj(feats[:, : T2 * self.stack].reshape(B, T2, Fm * self.stack))
        pad_mask = None
        if lengths is not None and self.arch == 'conformer':
            pad_mask = torch.arange(T2, device=feats.device)[None, :] >= self.out_lengths(lengths)[:, None]
        if self.arch == 'gru':
            return self.gru(x)[0]
        for b in self.blocks:
            x = b(x, pad_mask)
        return x


class CtcModel(nn.Module):
    def __init__(self, n_vocab=len(VOCAB), **cfg):
        super().__init__()
        self.encoder = Encoder(**cfg)
        self.head = nn.Linear(self.encoder.config['d'], n_vocab)

    def forward(self, feats, lengths=None):
        return self.head(self.encoder(feats, lengths))


def count_params(m):
    return sum(p.numel() for p in m.parameters())
