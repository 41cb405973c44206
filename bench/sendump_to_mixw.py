"""PocketSphinx's en-us model ships its mixture weights only as `sendump` (8-bit quantised, for
decoding); SphinxTrain's bw and map_adapt need them as a `mixture_weights` file. This rebuilds
that file from sendump (for bench/pocketsphinx; not used by adapt-asr).
sendump: length-prefixed header strings ending with an empty one; int32 #codewords and #pdfs;
then per feature stream and codeword one byte per senone, w = -log_1.0001(p) >> shift.
mixture_weights: Sphinx-3 binary file, header 's3' ... 'endhdr', int32 0x11223344, then
uint32 n_senone, n_feat, n_density, count and float32 weights [senone][feat][density].
Usage: /usr/bin/python3 bench/sendump_to_mixw.py SENDUMP MIXTURE_WEIGHTS"""
import os
import struct
import sys

import numpy as np


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'recipes', 'base-en-real'))
from ptm_onnx import SENSCR_UNIT, read_sendump as read_costs  # noqa: E402  (one sendump reader in the project)


def read_sendump(path):
    """Mixture weights [senone][feat][density], float32, each mixture normalised to sum 1."""
    w = np.exp(-read_costs(path).astype(np.float64) * SENSCR_UNIT)  # (feat, density, senone)
    mixw = np.transpose(w, (2, 0, 1))
    mixw /= mixw.sum(axis=2, keepdims=True)
    return mixw.astype('<f4')


def write_s3(path, arr):
    head = 's3\nversion 1.0\n'
    pad = (4 - (len(head) + len('endhdr\n')) % 4) % 4
    with open(path, 'wb') as f:
        f.write((head + ' ' * pad + 'endhdr\n').encode())
        f.write(struct.pack('<i', 0x11223344))
        d1, d2, d3 = arr.shape
        f.write(struct.pack('<IIII', d1, d2, d3, arr.size))
        f.write(np.ascontiguousarray(arr).tobytes())


if __name__ == '__main__':
    m = read_sendump(sys.argv[1])
    write_s3(sys.argv[2], m)
    print(f'{sys.argv[2]}: {m.shape[0]} senones x {m.shape[1]} streams x {m.shape[2]} densities')
