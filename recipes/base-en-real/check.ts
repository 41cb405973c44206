/**
 * Stage 5 of recipes/base-en-real: ONNX Runtime against PyTorch for the exported trunk (the reference
 * output stage 4 saved), and the whole encoder's speed on one thread over Kathleen's dev prompts (warm:
 * the best of three passes after one warm-up pass).
 * Usage: node dist/recipes/base-en-real/check.js --work DIR --model models/base-en-real
 * Writes DIR/check.json; exits 1 when the trunk differs by more than 1e-4.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readDataset } from '../../lib/data/manifest.js';
import { loadAudio } from '../../lib/audio/index.js';
import { createSession } from '../../lib/encoder/session.js';
import { computeFeatures } from '../../lib/features/index.js';
import { subtractMean } from '../../lib/features/normalize.js';
import { readNpy } from '../../lib/io/npy.js';

const arg = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1];
const work = arg('work'), model = arg('model');

const trunk = await createSession(path.join(work, 'trunk.onnx'), { threads: 1 });
const x = readNpy(path.join(work, 'trunk-check-in.npy')), want = readNpy(path.join(work, 'trunk-check-out.npy'));
const got = await trunk.run('trunk_in', x.data, [1, ...x.shape], 'encoder_out');
await trunk.release();
let maxDiff = 0;
for (let i = 0; i < want.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want.data[i] - got.data[i]));

const enc = await createSession(path.join(model, 'encoder.onnx'), { threads: 1 });
const utts = readDataset(path.join(work, 'kathleen-dev.jsonl')).utterances.slice(0, 40);
// Features once; the encoder timed over all utterances three times after a warm-up pass, the best pass kept
// (the first runs of a session are slower: a single pass measured 0.029 where warm passes give 0.018).
const feats = utts.map((u) => loadAudio(u.audio, { sampleRate: 16000 }));
let audioSec = 0, featMs = 0;
const inputs = feats.map((a) => {
  const t0 = performance.now();
  const f = computeFeatures(a, 'sphinx-mfcc-13');
  subtractMean(f.data, f.numFrames, f.dim);
  featMs += performance.now() - t0;
  audioSec += a.samples.length / 16000;
  return f;
});
const passes: number[] = [];
for (let pass = 0; pass < 4; pass++) {
  const t0 = performance.now();
  for (const f of inputs) await enc.run('features', f.data, [1, f.numFrames, f.dim], 'encoder_out');
  if (pass > 0) passes.push(performance.now() - t0);
}
const encMs = Math.min(...passes);
await enc.release();
const result = { date: new Date().toISOString().slice(0, 10), trunkMaxAbsDiff: maxDiff, utterances: utts.length, audioSeconds: audioSec, featuresRtf: featMs / 1000 / audioSec, encoderRtf: encMs / 1000 / audioSec, threads: 1 };
fs.writeFileSync(path.join(work, 'check.json'), JSON.stringify(result, null, 1) + '\n');
console.log(JSON.stringify(result));
if (!(maxDiff <= 1e-4)) {
  console.error(`trunk: ONNX Runtime differs from PyTorch by ${maxDiff}`);
  process.exit(1);
}
