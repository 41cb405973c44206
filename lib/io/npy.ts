/**
 * NumPy .npy files (format version 1.0): float32 little-endian, C order. numpy.load reads what
 * writeNpy writes; readNpy reads float32 and float64 arrays written by numpy.save.
 */
import fs from 'node:fs';
import os from 'node:os';
import { InputError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The .npy bytes of a float32 array of the given shape (product of shape = data.length). */
export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array[] {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npy: shape [${shape}] holds ${count} values, data has ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // Header length (magic 6 + version 2 + len 2 + dict + '\n') padded with spaces to a multiple of 64.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const head = new Uint8Array(10 + dict.length);
  head.set(MAGIC, 0);
  head[6] = 1; head[7] = 0;
  head[8] = dict.length & 0xff; head[9] = dict.length >> 8;
  for (let i = 0; i < dict.length; i++) head[10 + i] = dict.charCodeAt(i);
  let body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (os.endianness() === 'BE') {
    body = new Uint8Array(data.byteLength);
    const v = new DataView(body.buffer);
    for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i], true);
  }
  return [head, body];
}

/** Write a float32 .npy file atomically. */
export function writeNpy(path: string, data: Float32Array, shape: number[]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}

/** Read a float32 or float64 C-order .npy file (float64 is converted to float32). */
export function readNpy(path: string): { data: Float32Array; shape: number[] } {
  const buf = fs.readFileSync(path);
  const bad = (why: string): never => { throw new InputError(`not a readable .npy file: ${why}`, path); };
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) bad('missing \\x93NUMPY magic');
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) bad('Fortran order is not supported');
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || shapeStr === undefined) bad('malformed header');
  const shape = shapeStr!.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = buf.subarray(start + headerLen);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const data = new Float32Array(count);
  if (descr === '<f4') {
    if (body.length < 4 * count) bad('truncated data');
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
  } else if (descr === '<f8') {
    if (body.length < 8 * count) bad('truncated data');
    for (let i = 0; i < count; i++) data[i] = view.getFloat64(8 * i, true);
  } else {
    bad(`dtype ${descr} is not supported (expected <f4 or <f8)`);
  }
  return { data, shape };
}
