/**
 * After export: the ONNX encoder, run by onnxruntime-node, must reproduce PyTorch's output on the
 * reference input export.py saved, the trainable top blocks run in JavaScript must turn the second
 * output (encoder_top_in) into the first, and model.json must load. Exits 1 on a mismatch.
 * Usage: node dist/recipes/base-en/check-export.js --model models/base-en --run WORK/runs/main
 */
import path from 'node:path';
import { Encoder } from '../../lib/encoder/index.js';
import { loadManifest } from '../../lib/encoder/manifest.js';
import { loadTopBlocks } from '../../lib/encoder/top.js';
import { convBlockForward } from '../../lib/adapter/math.js';
import { createSession } from '../../lib/encoder/session.js';
import { readNpy } from '../../lib/io/npy.js';

const arg = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1];
const model = arg('model'), run = arg('run');
const x = readNpy(path.join(run, 'export-check-in.npy'));
const y = readNpy(path.join(run, 'export-check-out.npy'));
const session = await createSession(path.join(model, 'encoder.onnx'), { threads: 1 });
const out = await session.run('features', x.data, [1, ...x.shape], 'encoder_out');
let maxDiff = 0;
for (let i = 0; i < y.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out.data[i] - y.data[i]));
const md = loadManifest(model);
let topDiff = 0;
if (md.manifest.trainableTop) {
  const top = loadTopBlocks(md);
  const mid = await session.run('features', x.data, [1, ...x.shape], top.output);
  const T = mid.dims[1], d = mid.dims[2];
  let h = mid.data;
  for (const b of top.blocks) h = convBlockForward(h, T, d, top.kernel, b);
  for (let i = 0; i < h.length; i++) topDiff = Math.max(topDiff, Math.abs(h[i] - out.data[i]));
}
await session.release();
const enc = await Encoder.create(model, { threads: 1 });
await enc.release();
process.stdout.write(`ONNX vs PyTorch on [1, ${x.shape.join(', ')}]: output [${out.dims.join(', ')}], max |diff| ${maxDiff.toExponential(2)}; `
  + `${md.manifest.trainableTop ? `top blocks in JavaScript vs ONNX: max |diff| ${topDiff.toExponential(2)}; ` : ''}model.json loads\n`);
if (out.data.length !== y.data.length || !(maxDiff < 1e-3) || !(topDiff < 1e-3)) process.exit(1);
