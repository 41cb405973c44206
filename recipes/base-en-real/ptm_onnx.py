"""PocketSphinx's en-us acoustic model (a phonetically-tied mixture model trained on real speech) as
an ONNX graph: batch-CMN'd sphinx-mfcc-13 cepstra in, senone log-likelihoods and log-likelihood ratios of the
126 context-independent phone states out. Every 10 ms frame:

  1s_c_d_dd        x = [c_t, c_{t+2} - c_{t-2}, (c_{t+3} - c_{t-1}) - (c_{t+1} - c_{t-3})]  (edges repeated)
  Gaussians        for each of the 3 streams (13 dims each), 42 codebooks (one per CI phone) of 128
                   diagonal Gaussians: ln N(x_f; mu, var), variances floored at 1e-4 as PocketSphinx does
  top-4            per codebook and stream, the 4 best Gaussians (PocketSphinx's -topn 4), each floored
                   at 96 score units (9.8 nats) below the stream's best Gaussian, as PocketSphinx does
  senones          ln sum_{k in top-4} w[s, f, k] N_k summed over streams, w from sendump (8-bit costs)
  state scores     per (CI phone, state): its best senone's log-likelihood ratio to the frame's best
                   senone (<= 0, floored at -50 nats); output `state_logpost`
  top senones      the 32 best senones of the frame and their log-likelihood ratios to the best;
                   output `ptm_features` = [state scores, senone indices (as floats), their ratios]

Files read: `means`, `variances`, `sendump` from the model folder and the text mdef that
`pocketsphinx_mdef_convert -text` writes. The readers follow the formats as sphinxbase writes them
(s3 headers with a byte-order magic; sendump's length-prefixed header strings then uint8 rows).
"""
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
# PocketSphinx scores senones in units of log base 1.0001, shifted right by 10 bits.
SENSCR_UNIT = 1024 * np.log(1.0001)
# PocketSphinx floors each top-N Gaussian at 96 units below the best Gaussian of its stream in the frame.
MAX_NEG_ASCR = 96
VAR_FLOOR = 1e-4
TOPN = 4
LLR_FLOOR = 50.0
SENONE_TOPK = 32


def read_s3_header(raw):
    """(key -> value, byte order '<' or '>', data offset) of an s3 binary file."""
    if not raw.startswith(b's3\n'):
        raise ValueError('not an s3 file (no "s3" line)')
    end = raw.index(b'endhdr\n') + len(b'endhdr\n')
    fields = dict(line.split(' ', 1) for line in raw[3:end - 7].decode('ascii').splitlines() if ' ' in line)
    magic = raw[end:end + 4]
    if magic == struct.pack('<I', 0x11223344):
        order = '<'
    elif magic == struct.pack('>I', 0x11223344):
        order = '>'
    else:
        raise ValueError('bad byte-order magic')
    return fields, order, end + 4


def read_gauden(path):
    """means or variances: float32 array (n_mgau, n_feat, n_density, veclen); all streams equal length."""
    raw = open(path, 'rb').read()
    fields, order, o = read_s3_header(raw)
    n_mgau, n_feat, n_density = struct.unpack_from(order + '3i', raw, o)
    o += 12
    veclen = struct.unpack_from(order + f'{n_feat}i', raw, o)
    o += 4 * n_feat
    (n,) = struct.unpack_from(order + 'i', raw, o)
    o += 4
    if n != n_mgau * n_density * sum(veclen):
        raise ValueError(f'{path}: {n} parameters for {n_mgau} x {n_density} x {sum(veclen)}')
    if len(set(veclen)) != 1:
        raise ValueError(f'{path}: streams of different lengths {veclen} are not supported')
    data = np.frombuffer(raw, dtype=order + 'f4', count=n, offset=o).astype(np.float32)
    return data.reshape(n_mgau, n_feat, n_density, veclen[0])


def read_sendump(path):
    """Mixture weights as 8-bit costs: uint8 array (n_feat, n_density, n_sen); w = exp(-cost * SENSCR_UNIT)."""
    raw = open(path, 'rb').read()
    o = 0

    def rint():
        nonlocal o
        (v,) = struct.unpack_from('<i', raw, o)
        o += 4
        return v

    strings = []
    for _ in range(2):  # title, header
        n = rint()
        strings.append(raw[o:o + n])
        o += n
    while True:
        n = rint()
        if n == 0:
            break
        strings.append(raw[o:o + n].rstrip(b'\0').decode('ascii'))
        o += n
    opts = dict(s.split(' ', 1) for s in strings[2:] if s.startswith(('cluster_count', 'feature_count')))
    if int(opts.get('cluster_count', '0')) != 0:
        raise ValueError(f'{path}: clustered (4-bit) mixture weights are not supported')
    n_feat = int(opts.get('feature_count', '1'))
    rows, cols = rint(), rint()
    data = np.frombuffer(raw, dtype=np.uint8, count=n_feat * rows * cols, offset=o)
    return data.reshape(n_feat, rows, cols)


def read_mdef_text(path):
    """(CI phone names, senone -> CI phone index, senone -> state position) from a text mdef."""
    lines = [l.split() for l in open(path) if l.strip() and not l.startswith('#')]
    head = {l[1]: int(l[0]) for l in lines if len(l) == 2}
    n_ci, n_sen = head['n_base'], head['n_tied_state']
    rows = [l for l in lines if len(l) > 2]
    ci_names = [r[0] for r in rows[:n_ci]]
    ci_index = {p: i for i, p in enumerate(ci_names)}
    sen_ci = np.full(n_sen, -1, np.int64)
    sen_state = np.full(n_sen, -1, np.int64)
    for r in rows:
        states = [int(s) for s in r[6:-1]]
        for k, s in enumerate(states):
            if sen_ci[s] not in (-1, ci_index[r[0]]) or sen_state[s] not in (-1, k):
                raise ValueError(f'{path}: senone {s} is shared across phones or states')
            sen_ci[s], sen_state[s] = ci_index[r[0]], k
    if (sen_ci < 0).any():
        raise ValueError(f'{path}: senones without a phone')
    return ci_names, sen_ci, sen_state


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, name, value, dtype=np.float32):
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type, inputs, out=None, **attrs):
        self.n += 1
        out = out or f'{op_type.lower()}_{self.n}'
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out


def build(model_dir, mdef_txt):
    """The ONNX model and a description dict (phones, groups)."""
    means = read_gauden(f'{model_dir}/means')      # (C, F, K, D)
    var = read_gauden(f'{model_dir}/variances')
    mixw = read_sendump(f'{model_dir}/sendump')     # (F, K, S)
    ci_names, sen_ci, sen_state = read_mdef_text(mdef_txt)
    C, F, K, D = means.shape
    S = mixw.shape[2]
    if mixw.shape[:2] != (F, K) or len(sen_ci) != S or C != len(ci_names):
        raise ValueError('means, sendump and mdef disagree on the model size')
    var = np.maximum(var.astype(np.float64), VAR_FLOOR)
    mu = means.astype(np.float64)
    # ln N(x) = sum_d [-0.5 ln(2 pi v) - (x - mu)^2 / (2 v)] = [x^2, x] . [-1/(2v), mu/v] + const
    inv2v = 1.0 / (2.0 * var)
    const = (-0.5 * np.log(2 * np.pi * var) - mu * mu * inv2v).sum(-1)          # (C, F, K)
    g = Builder()
    x = 'features'  # (1, T, D) cepstra after batch CMN
    # 1s_c_d_dd with the first and last frames repeated 3 times (sphinxbase pads the utterance so).
    xp = g.op('Pad', [x, g.const('pads', [0, 3, 0, 0, 3, 0], np.int64)], mode='edge')  # (1, T+6, D)
    T = g.op('Shape', [x])
    t_len = g.op('Gather', [T, g.const('one_i', 1, np.int64)], axis=0)

    def shifted(k):  # frames t + k for t in [0, T): slice [3 + k, 3 + k + T)
        start = g.op('Reshape', [g.const(f'st{k}', 3 + k, np.int64), g.const(f'shape1_{k}', [1], np.int64)])
        end = g.op('Add', [start, g.op('Reshape', [t_len, g.const(f'shape1b_{k}', [1], np.int64)])])
        return g.op('Slice', [xp, start, end, g.const(f'axis_time{k}', [1], np.int64)])

    c0 = shifted(0)
    d = g.op('Sub', [shifted(2), shifted(-2)])
    dd = g.op('Sub', [g.op('Sub', [shifted(3), shifted(-1)]), g.op('Sub', [shifted(1), shifted(-3)])])
    # The three streams as a batch: (F, T, D), then [x^2, x] (F, T, 2D) times (F, 2D, C*K).
    sq = lambda n: g.op('Squeeze', [n, g.const(f'sq_{n}', [0], np.int64)])
    streams = g.op('Concat', [g.op('Unsqueeze', [sq(n), g.const(f'unsq_{n}', [0], np.int64)]) for n in (c0, d, dd)], axis=0)
    # [x^2, x, 1] (F, T, 2D + 1) times (F, 2D + 1, C*K): the constant folded in, one MatMul and no Add.
    a = np.concatenate([-inv2v, mu * 2 * inv2v, const[..., None]], axis=-1)        # (C, F, K, 2D + 1)
    a = a.transpose(1, 3, 0, 2).reshape(F, 2 * D + 1, C * K).astype(np.float32)
    ones = g.op('Slice', [g.op('Mul', [streams, g.const('zero', 0.0)]), g.const('one_s', [0], np.int64), g.const('one_e', [1], np.int64), g.const('one_a', [2], np.int64)])
    ones = g.op('Add', [ones, g.const('one', 1.0)])                                 # (F, T, 1)
    feats = g.op('Concat', [g.op('Mul', [streams, streams]), streams, ones], axis=-1)
    ll = g.op('MatMul', [feats, g.const('gauss_a', a)])
    ll = g.op('Reshape', [ll, g.const('shape_ftck', [F, -1, C, K], np.int64)])   # (F, T, C, K)
    top_v, top_i = 'topv', 'topi'  # sorted, best first
    g.nodes.append(helper.make_node('TopK', [ll, g.const('k', [TOPN], np.int64)], [top_v, top_i], axis=-1, largest=1, sorted=1))
    best = g.op('ReduceMax', [top_v], axes=[2, 3], keepdims=1)                     # (F, T, 1, 1)
    top_v = g.op('Max', [top_v, g.op('Sub', [best, g.const('ascr_floor', MAX_NEG_ASCR * SENSCR_UNIT)])])
    # Per codebook: the rows of its senones' log weights for the top-4 Gaussians, one Gather each.
    # density = v_0 + ln sum_k w_k exp(v_k - v_0) over the top 4: the best Gaussian v_0 factored out, the
    # top 4 scattered into zeros, then one dense (T, 128) x (128, S_c) MatMul per codebook and stream.
    # Measured: faster than gathering 4 weight rows per senone, and than masking the dense scores.
    w_lin = np.exp(-mixw.astype(np.float64) * SENSCR_UNIT)                         # (F, K, S)
    order = np.lexsort((np.arange(S), sen_state, sen_ci))                          # senones by codebook, then state
    v0 = g.op('Slice', [top_v, g.const('v0_s', [0], np.int64), g.const('v0_e', [1], np.int64), g.const('v0_a', [3], np.int64)])  # (F, T, C, 1)
    rel = g.op('Exp', [g.op('Sub', [top_v, v0])])                                  # (F, T, C, 4) in (0, 1]
    zeros = g.op('ConstantOfShape', [g.op('Shape', [ll])], value=helper.make_tensor('z', TensorProto.FLOAT, [1], [0.0]))
    p = g.op('ScatterElements', [zeros, top_i, rel], axis=3)                       # (F, T, C, K), 4 non-zeros per codebook
    per_cb, best_state = [], []
    for c in range(C):
        sens = order[sen_ci[order] == c]
        w_c = w_lin[:, :, sens].astype(np.float32)                                 # (F, K, S_c)
        ci = g.const(f'cb{c}', c, np.int64)
        mix = g.op('MatMul', [g.op('Gather', [p, ci], axis=2), g.const(f'mixw{c}', w_c)])  # (F, T, S_c)
        dens = g.op('Add', [g.op('Log', [mix]), g.op('Gather', [v0, ci], axis=2)])  # + v_0 (F, T, 1)
        per_cb.append(g.op('ReduceSum', [dens, g.const(f'axis_f{c}', [0], np.int64)], keepdims=0))  # (T, S_c)
        # each state's senones are a contiguous run of this codebook's columns: its best one
        states_c = sen_state[sens]
        for k in range(3):
            at = np.flatnonzero(states_c == k)
            if len(at) == 0 or at[-1] - at[0] + 1 != len(at):
                raise ValueError(f'codebook {c}: state {k} has no senones, or they are not contiguous')
            run = g.op('Slice', [per_cb[-1], g.const(f'rs{c}_{k}', [at[0]], np.int64), g.const(f're{c}_{k}', [at[-1] + 1], np.int64), g.const(f'ra{c}_{k}', [1], np.int64)])
            best_state.append(g.op('ReduceMax', [run], axes=[1], keepdims=1))          # (T, 1)
    sen_sorted = g.op('Concat', per_cb, axis=1)                                    # (T, S), senones in `order`
    inverse = np.empty(S, np.int64)
    inverse[order] = np.arange(S)
    sen = g.op('Unsqueeze', [g.op('Gather', [sen_sorted, g.const('sen_inverse', inverse, np.int64)], axis=1), g.const('unsq_b', [0], np.int64)], 'senone_loglik')  # (1, T, S)
    # Per (CI phone, state): its best senone's log-likelihood ratio to the frame's best senone, floored at
    # -LLR_FLOOR nats. (A softmax summed over each group's senones was measured first: its values were
    # dominated by how many senones each group has, up to log 150 nats, and the head learned slowly.)
    best_g = g.op('Concat', best_state, axis=1)                                    # (T, 126), phone-major
    llr = g.op('Sub', [best_g, g.op('ReduceMax', [best_g], axes=[1], keepdims=1)])
    llr = g.op('Max', [llr, g.const('llr_floor', -LLR_FLOOR)])
    state = g.op('Unsqueeze', [llr, g.const('unsq_llr', [0], np.int64)], 'state_logpost')  # (1, T, 126)
    # The SENONE_TOPK best senones of each frame (index as a float, exact below 2^24) and their
    # log-likelihood ratios to the best: the trunk embeds them, so that what the CI-state scores
    # leave out (which triphone's senone fits) reaches it too.
    sv, si = 'sen_top_v', 'sen_top_i'
    g.nodes.append(helper.make_node('TopK', [sen, g.const('k_sen', [SENONE_TOPK], np.int64)], [sv, si], axis=-1, largest=1, sorted=1))
    s_llr = g.op('Max', [g.op('Sub', [sv, g.op('Slice', [sv, g.const('sv_s', [0], np.int64), g.const('sv_e', [1], np.int64), g.const('sv_a', [2], np.int64)])]), g.const('llr_floor2', -LLR_FLOOR)])
    g.op('Concat', [state, g.op('Cast', [si], to=TensorProto.FLOAT), s_llr], 'ptm_features', axis=-1)  # (1, T, 126 + 2K)
    graph = helper.make_graph(
        g.nodes, 'pocketsphinx-en-us-ptm',
        [helper.make_tensor_value_info('features', TensorProto.FLOAT, [1, 'time', D])],
        [helper.make_tensor_value_info('ptm_features', TensorProto.FLOAT, [1, 'time', C * 3 + 2 * SENONE_TOPK]),
         helper.make_tensor_value_info('state_logpost', TensorProto.FLOAT, [1, 'time', C * 3]),
         helper.make_tensor_value_info('senone_loglik', TensorProto.FLOAT, [1, 'time', S])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='adapt-asr recipes/base-en-real')
    onnx.checker.check_model(model)
    states = [f'{p}.{k}' for p in ci_names for k in range(3)]
    return model, {'phones': ci_names, 'states': states, 'senones': S, 'codebooks': C, 'llrFloor': LLR_FLOOR, 'senoneTopK': SENONE_TOPK, 'senscrUnit': SENSCR_UNIT}


if __name__ == '__main__':
    import argparse
    import json
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default='/usr/share/pocketsphinx/model/en-us/en-us')
    ap.add_argument('--mdef-txt', required=True, help='pocketsphinx_mdef_convert -text <model>/mdef <this>')
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    model, info = build(a.model, a.mdef_txt)
    onnx.save(model, a.out)
    json.dump(info, open(a.out.replace('.onnx', '.json'), 'w'), indent=1)
    print(f'wrote {a.out}: {info["codebooks"]} codebooks, {info["senones"]} senones, {len(info["states"])} states')
