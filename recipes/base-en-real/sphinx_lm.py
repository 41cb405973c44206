"""Read a sphinxbase/PocketSphinx binary trie LM (`*.lm.bin`, "Trie Language Model") and write ARPA.

Debian's `sphinx_lm_convert` cannot do this (its ARPA writer fails an assertion on en-us.lm.bin), so
this reads the format as sphinxbase writes it:

  "Trie Language Model" (no NUL), uint8 order, uint32 counts[order]
  int32 (former quantisation type), float32 quantisation tables: for each middle order (2 .. N-1)
      2^16 probabilities then 2^16 back-offs, then 2^16 probabilities of the highest order
  (counts[0] + 1) unigrams {float32 prob, float32 backoff, uint32 first child}; the extra one ends the range
  bit-packed n-gram arrays, middles then longest. A middle entry is [word | backoff 16 | prob 16 | next];
  a longest entry [word | prob 16]; fields little-endian, LSB first; each array has one extra entry (the
  end of the last child range) and 8 bytes of slack. Bits per word = bits(n_unigrams), per next =
  bits(count of the next order).
  int32 total length, then the words, NUL-terminated, in unigram order
The trie is reversed: a unigram's children are the words before it, so a path w_n, w_{n-1}, ... w_1
is the n-gram w_1 ... w_n. Scores are logs in base 1.0001 (sphinxbase's logmath), converted to log10 for ARPA.

Usage: /usr/bin/python3 recipes/base-en-real/sphinx_lm.py IN.lm.bin OUT.arpa [--keep BIGRAMS,TRIGRAMS]
"""
import struct
import sys

import numpy as np

HEADER = b'Trie Language Model'
QUANT_BITS = 16


def required_bits(n):
    return int(n).bit_length()


class BitArray:
    def __init__(self, buf):
        # pad so that an 8-byte read at any offset is in bounds
        self.b = np.frombuffer(buf + bytes(8), dtype=np.uint8)

    def read(self, offsets, bits):
        """Values of `bits` bits at bit offsets (numpy int64 array), as uint64."""
        byte = offsets >> 3
        v = np.zeros(len(offsets), np.uint64)
        for k in range(8):
            v |= self.b[byte + k].astype(np.uint64) << np.uint64(8 * k)
        return (v >> (offsets & 7).astype(np.uint64)) & np.uint64((1 << bits) - 1)


def read_trie(path):
    raw = open(path, 'rb').read()
    if not raw.startswith(HEADER):
        raise SystemExit(f'{path}: not a sphinxbase trie LM (no "{HEADER.decode()}" header)')
    o = len(HEADER)
    order = raw[o]
    o += 1
    counts = list(struct.unpack_from(f'<{order}I', raw, o))
    o += 4 * order
    o += 4  # former quantisation type
    n_q = (order - 2) * 2 ** (QUANT_BITS + 1) + 2 ** QUANT_BITS if order > 1 else 0
    q = np.frombuffer(raw, '<f4', n_q, o).astype(np.float64)
    o += 4 * n_q
    ug = np.frombuffer(raw, dtype=np.dtype([('prob', '<f4'), ('bo', '<f4'), ('next', '<u4')]), count=counts[0] + 1, offset=o)
    o += 12 * (counts[0] + 1)
    word_bits = required_bits(counts[0])
    levels = []  # one per order 2 .. N: dict(word, prob, bo, next_begin, next_end)
    for n in range(2, order + 1):
        last = n == order
        next_bits = 0 if last else required_bits(counts[n])
        total = word_bits + (QUANT_BITS if last else 2 * QUANT_BITS + next_bits)
        size = ((1 + counts[n - 1]) * total + 7) // 8 + 8
        bits = BitArray(raw[o:o + size])
        o += size
        idx = np.arange(counts[n - 1] + 1, dtype=np.int64) * total
        lvl = {'word': bits.read(idx[:-1], word_bits).astype(np.int64)}
        table = (n - 2) * 2 ** (QUANT_BITS + 1)
        if last:
            lvl['prob'] = q[table + bits.read(idx[:-1] + word_bits, QUANT_BITS).astype(np.int64)]
        else:
            lvl['bo'] = q[table + 2 ** QUANT_BITS + bits.read(idx[:-1] + word_bits, QUANT_BITS).astype(np.int64)]
            lvl['prob'] = q[table + bits.read(idx[:-1] + word_bits + QUANT_BITS, QUANT_BITS).astype(np.int64)]
            nxt = bits.read(idx + word_bits + 2 * QUANT_BITS, next_bits).astype(np.int64)
            lvl['next'] = nxt
        levels.append(lvl)
    (k,) = struct.unpack_from('<i', raw, o)
    o += 4
    words = raw[o:o + k].decode('utf-8').split('\0')[:counts[0]]
    if len(words) != counts[0]:
        raise SystemExit(f'{path}: {len(words)} words for {counts[0]} unigrams')
    return order, counts, ug, levels, words


def ngrams(order, counts, ug, levels):
    """Per order n >= 2: (word index arrays w_1 .. w_n as an (count, n) array, prob, backoff or None)."""
    out = []
    # parent ranges for level 2 come from the unigrams
    begin = ug['next'][:-1].astype(np.int64)
    end = ug['next'][1:].astype(np.int64)
    paths = np.arange(counts[0], dtype=np.int64)[:, None]  # reversed n-gram prefixes: [w_n]
    for n in range(2, order + 1):
        lvl = levels[n - 2]
        m = counts[n - 1]
        owner = np.zeros(m, np.int64)  # the parent entry of each child
        sizes = end - begin
        if sizes.sum() > m or (sizes < 0).any():
            raise SystemExit(f'order {n}: child ranges cover {sizes.sum()} entries, the file declares {m}')
        # en-us.lm.bin declares a few more n-grams than its trie reaches (the reason sphinxbase's own
        # ARPA writer fails its assertion); only the reachable ones are n-grams of the model.
        m = int(sizes.sum())
        owner = owner[:m]
        lvl = {k: (v[:m] if k != 'next' else v[:m + 1]) for k, v in lvl.items()}
        parent = np.repeat(np.arange(len(begin)), sizes)
        first = np.repeat(begin, sizes)
        pos = first + (np.arange(m) - np.repeat(np.cumsum(sizes) - sizes, sizes))
        owner[pos] = parent
        child_paths = np.concatenate([paths[owner], lvl['word'][:, None]], axis=1)  # reversed: w_n ... w_1
        out.append((child_paths[:, ::-1], lvl['prob'], lvl.get('bo')))
        if n < order:
            begin, end = lvl['next'][:-1], lvl['next'][1:]
            paths = child_paths
    return out


def to_log10(ug, grams):
    """Unigram (prob, bo) and n-gram tables with scores in log10."""
    k = np.log(1.0001) / np.log(10)
    u = (ug['prob'][:-1].astype(np.float64) * k, ug['bo'][:-1].astype(np.float64) * k)
    return u, [(w, p * k, None if b is None else b * k) for w, p, b in grams]


def prune(u, grams, keep):
    """Keep the `keep[n-2]` n-grams of each order n >= 2 with the highest joint probability p(h) p(w | h)
    (a trigram also needs its context bigram kept), then recompute every back-off weight so that each
    context's distribution sums to one again (Katz): bo(h) = (1 - sum_kept p(w|h)) / (1 - sum_kept p'(w|h')).
    Trigram-only for simplicity: orders above 3 are dropped."""
    up, _ = u
    V = len(up)
    (w2, p2, _), (w3, p3, _) = grams[0], grams[1]
    # bigrams: joint log10 p(a) p(b|a)
    j2 = up[w2[:, 0]] + p2
    k2 = np.sort(np.argsort(-j2, kind='stable')[:keep[0]])
    w2, p2 = w2[k2], p2[k2]
    key2 = w2[:, 0] * V + w2[:, 1]
    sort2 = np.argsort(key2)
    key2s = key2[sort2]

    def bigram_index(a, b):
        """Index into the kept bigrams of (a, b), or -1."""
        q = a * V + b
        i = np.searchsorted(key2s, q)
        i = np.minimum(i, len(key2s) - 1)
        return np.where(key2s[i] == q, sort2[i], -1)

    # trigrams: context bigram kept; joint log10 p(a) p(b|a) p(c|a b)
    ctx = bigram_index(w3[:, 0], w3[:, 1])
    ok = ctx >= 0
    w3, p3, ctx = w3[ok], p3[ok], ctx[ok]
    j3 = up[w3[:, 0]] + p2[ctx] + p3
    k3 = np.sort(np.argsort(-j3, kind='stable')[:keep[1]])
    w3, p3, ctx = w3[k3], p3[k3], ctx[k3]

    def backoffs(ctx_index, n_ctx, p_kept, p_lower):
        num = 1 - np.bincount(ctx_index, weights=10 ** p_kept, minlength=n_ctx)
        den = 1 - np.bincount(ctx_index, weights=10 ** p_lower, minlength=n_ctx)
        num = np.maximum(num, 1e-7)
        den = np.maximum(den, 1e-7)
        return np.log10(num / den)

    bo1 = backoffs(w2[:, 0], V, p2, up[w2[:, 1]])
    # lower order of a trigram (a b c): the pruned bigram model's p(c | b)
    lb = bigram_index(w3[:, 1], w3[:, 2])
    lower = np.where(lb >= 0, p2[np.maximum(lb, 0)], bo1[w3[:, 1]] + up[w3[:, 2]])
    bo2 = backoffs(ctx, len(w2), p3, lower)
    return (up, bo1), [(w2, p2, bo2), (w3, p3, None)]


def write_arpa(path, u, grams, words):
    n_max = 1 + len(grams)
    counts = [len(u[0])] + [len(g[0]) for g in grams]
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        f.write('\\data\\\n')
        for n in range(1, n_max + 1):
            f.write(f'ngram {n}={counts[n - 1]}\n')
        f.write('\n\\1-grams:\n')
        for i, w in enumerate(words):
            bo = f'\t{u[1][i]:.4f}' if n_max > 1 else ''
            f.write(f'{u[0][i]:.4f}\t{w}{bo}\n')
        for n in range(2, n_max + 1):
            w, prob, bo = grams[n - 2]
            f.write(f'\n\\{n}-grams:\n')
            order_idx = np.lexsort(w.T[::-1])
            for j in order_idx:
                text = ' '.join(words[x] for x in w[j])
                tail = f'\t{bo[j]:.4f}' if (bo is not None and n < n_max) else ''
                f.write(f'{prob[j]:.4f}\t{text}{tail}\n')
        f.write('\n\\end\\\n')
    import os
    os.replace(path + '.tmp', path)


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('lm_bin')
    ap.add_argument('arpa')
    ap.add_argument('--keep', help='prune a trigram model to this many bigrams,trigrams (e.g. 400000,200000)')
    a = ap.parse_args()
    order, counts, ug, levels, words = read_trie(a.lm_bin)
    u, grams = to_log10(ug, ngrams(order, counts, ug, levels))
    print(f'{a.lm_bin}: order {order}, counts {counts} ({[len(g[0]) for g in grams]} reachable); unigram probabilities sum to {(10 ** u[0]).sum():.4f}')
    if a.keep:
        if order != 3:
            raise SystemExit('--keep: only trigram models are pruned')
        u, grams = prune(u, grams, [int(x) for x in a.keep.split(',')])
    write_arpa(a.arpa, u, grams, words)
    print(f'wrote {a.arpa}: {[len(u[0])] + [len(g[0]) for g in grams]} n-grams')
