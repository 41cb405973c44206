import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeNpy, readNpy, writeNpy } from '../../lib/io/npy.js';

describe('io/npy', () => {
  it('writes NumPy format 1.0: magic, 64-byte aligned header, <f4 C order, and reads it back', () => {
    const data = Float32Array.from([1, -2.5, 3.25, 0, 1e-10, -7]);
    const [head] = encodeNpy(data, [3, 2]);
    assert.deepEqual(Array.from(head.subarray(0, 8)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    assert.equal(head.length % 64, 0);
    const text = Buffer.from(head.subarray(10)).toString('latin1');
    assert.match(text, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 2\), \} *\n$/);
    const file = path.join(os.tmpdir(), `adapt-asr-${process.pid}.npy`);
    writeNpy(file, data, [3, 2]);
    const back = readNpy(file);
    assert.deepEqual(back.shape, [3, 2]);
    assert.deepEqual(Array.from(back.data), Array.from(data));
    assert.equal(fs.statSync(file).size, head.length + 24);
    fs.rmSync(file);
  });

  it('1-D shapes use the (n,) tuple form; a shape that does not fit the data is refused', () => {
    const [head] = encodeNpy(new Float32Array(5), [5]);
    assert.match(Buffer.from(head).toString('latin1'), /'shape': \(5,\)/);
    assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), /holds 6 values, data has 5/);
  });

  it('leaves nothing behind when the output folder is missing', () => {
    assert.throws(() => writeNpy('/nonexistent-dir/x.npy', new Float32Array(1), [1]), /output folder does not exist/);
  });
});
