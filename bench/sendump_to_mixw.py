"""PocketSphinx's en-us model ships its mixture weights only as `sendump` (8-bit quantised, for
decoding); SphinxTrain's bw and map_adapt need them as a `mixture_weights` file. This rebuilds
that file from sendump (for bench/pocketsphinx; not used by adapt-asr).
sendump: length-prefixed header strings ending with an empty one; int32 #codewords and #pdfs;
then per feature stream and codeword one byte per senone, w = -log_1.0001(p) >> shift.
mixture_weights: Sphinx-3 binary file, header 's3' ... 'endhdr', int32 0x11223344, then
uint32 n_senone, n_feat, n_density, count and float32 weights [senone][feat][density].
Usage: /usr/bin/python3 bench/sendump_to_mixw.py SENDUMP MIXTURE_WEIGHTS"""
import struct
import sys

import numpy as np


def read_sendump(path):
    with open(path, 'rb') as f:
        def string():
            n = struct.unpack('<I', f.read(4))[0]
            return f.read(n).rstrip(b'\0').decode('latin-1') if n else None
        string()  # title
        attrs = {}
        while True:
            s = string()
            if s is None:
                break
            parts = s.split()
            if len(parts) == 2 and parts[1].lstrip('-').isdigit():
                attrs[parts[0]] = int(parts[1])
        n_feat = attrs.get('feature_count', 1)
        shift = attrs.get('mixw_shift', 10)
        if attrs.get('cluster_count', 0) != 0:
            raise SystemExit(f'{path}: clustered sendump is not supported')
        n_code, n_sen = struct.unpack('<II', f.read(8))
        raw = np.frombuffer(f.read(n_feat * n_code * n_sen), dtype=np.uint8).reshape(n_feat, n_code, n_sen)
    w = np.power(1.0001, -(raw.astype(np.float64) * (1 << shift)))
    mixw = np.transpose(w, (2, 0, 1))  # [senone][feat][density]
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
