"""Random-weight encoders with the sizes of real ones, for speed benchmarks only (their outputs mean
nothing): the I/O conventions of the test encoders, with the compute of
- whisper-tiny: 2 convs (80->384, 384->384 stride 2) + 4 pre-LN transformer layers, d=384, 6 heads, MLP 1536;
- wav2vec2-base: 7-layer conv feature encoder (512 channels) + projection + 12 transformer layers,
  d=768, 12 heads, MLP 3072 (no positional conv).
Usage: /usr/bin/python3 bench/make-sized-encoders.py OUT_DIR [whisper-tiny] [wav2vec2-base]"""
import importlib.util
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

spec = importlib.util.spec_from_file_location('fx', os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'make-test-encoders.py'))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)


def shape_const(g, name, values):
    g.inits.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
    return name


def transformer(g, x, d, heads, ff, i):
    dh = d // heads
    split = shape_const(g, f'split{i}', [0, 0, heads, dh])
    merge = shape_const(g, f'merge{i}', [0, 0, d])
    h = g.layer_norm(x, d)
    def proj(w):
        return g.op('Transpose', [g.op('Reshape', [g.op('MatMul', [h, g.w(f'{w}{i}', [d, d])]), split])], perm=[0, 2, 1, 3])
    q, k, v = proj('q'), proj('k'), proj('v')
    s = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], perm=[0, 1, 3, 2])]), g.const(f'sc{i}', 1 / np.sqrt(dh))])
    a = g.op('MatMul', [g.op('Softmax', [s], axis=-1), v])
    a = g.op('Reshape', [g.op('Transpose', [a], perm=[0, 2, 1, 3]), merge])
    x = g.op('Add', [x, g.op('MatMul', [a, g.w(f'o{i}', [d, d])])])
    h = g.layer_norm(x, d)
    m = g.op('MatMul', [g.gelu(g.op('MatMul', [h, g.w(f'f1{i}', [d, ff])])), g.w(f'f2{i}', [ff, d])])
    return g.op('Add', [x, m])


def whisper_tiny(path, d=384):
    g = fx.Graph()
    x = g.gelu(g.op('Conv', ['input_features', g.w('c1', [d, 80, 3]), g.w('c1b', [d], 0.1)], pads=[1, 1], kernel_shape=[3]))
    x = g.gelu(g.op('Conv', [x, g.w('c2', [d, d, 3]), g.w('c2b', [d], 0.1)], pads=[1, 1], strides=[2], kernel_shape=[3]))
    x = g.op('Transpose', [x], perm=[0, 2, 1])
    for i in range(4):
        x = transformer(g, x, d, 6, 4 * d, i)
    g.layer_norm(x, d)
    g.save(path, [helper.make_tensor_value_info('input_features', TensorProto.FLOAT, ['batch_size', 80, 3000])],
           [helper.make_tensor_value_info('last_hidden_state', TensorProto.FLOAT, ['batch_size', 1500, d])], 'whisper_tiny_sized', 'last_hidden_state')


def wav2vec2_base(path, d=768):
    g = fx.Graph()
    x = g.op('Unsqueeze', ['input_values', shape_const(g, 'ax1', [1])])
    c_in = 1
    for i, (k, s) in enumerate([(10, 5), (3, 2), (3, 2), (3, 2), (3, 2), (2, 2), (2, 2)]):
        x = g.gelu(g.op('Conv', [x, g.w(f'fe{i}', [512, c_in, k])], strides=[s], kernel_shape=[k]))
        c_in = 512
    x = g.op('MatMul', [g.op('Transpose', [x], perm=[0, 2, 1]), g.w('proj', [512, d])])
    for i in range(12):
        x = transformer(g, x, d, 12, 4 * d, i)
    g.layer_norm(x, d)
    g.save(path, [helper.make_tensor_value_info('input_values', TensorProto.FLOAT, ['batch_size', 'sequence_length'])],
           [helper.make_tensor_value_info('last_hidden_state', TensorProto.FLOAT, ['batch_size', 'frames', d])], 'wav2vec2_base_sized', 'last_hidden_state')


if __name__ == '__main__':
    out, which = sys.argv[1], sys.argv[2:] or ['whisper-tiny', 'wav2vec2-base']
    if 'whisper-tiny' in which:
        whisper_tiny(f'{out}/whisper-tiny-sized.onnx')
    if 'wav2vec2-base' in which:
        wav2vec2_base(f'{out}/wav2vec2-base-sized.onnx')
