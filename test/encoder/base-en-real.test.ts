import assert from 'node:assert/strict';
import path from 'node:path';
import { loadAudio } from '../../lib/audio/index.js';
import { createSession } from '../../lib/encoder/session.js';
import { computeFeatures } from '../../lib/features/index.js';
import { subtractMean } from '../../lib/features/normalize.js';
import { readNpy } from '../../lib/io/npy.js';
import { ROOT } from '../helpers/fixtures.js';

// PocketSphinx scores senones in units of 1024 ln(1.0001) nats (log base 1.0001, shifted right by 10 bits).
const UNIT = 1024 * Math.log(1.0001);
const MODEL = path.join(ROOT, 'models', 'base-en-real');

describe('base-en-real: the PocketSphinx en-us acoustic model as an ONNX encoder', function () {
  this.timeout(120_000);

  it("senone scores match PocketSphinx's own (-senlogdir, golden from test/fixtures/make-ptm-golden.sh)", async () => {
    const f = computeFeatures(loadAudio(path.join(ROOT, 'test', 'fixtures', 'real', 'kathleen-arctic_a0001.wav')), 'sphinx-mfcc-13');
    subtractMean(f.data, f.numFrames, f.dim);
    const s = await createSession(path.join(MODEL, 'encoder.onnx'), { threads: 1 });
    const out = await s.run('features', f.data, [1, f.numFrames, f.dim], 'senone_loglik');
    await s.release();
    const S = out.dims[2];
    const golden = readNpy(path.join(ROOT, 'test', 'fixtures', 'golden', 'kathleen-arctic_a0001.pocketsphinx-senones.npy'));
    assert.equal(S, golden.shape[1]);
    assert.equal(Math.ceil(out.dims[1] / 10), golden.shape[0], 'one golden row per 10th frame');
    const diffs: number[] = [];
    let top1 = 0;
    for (let g = 0; g < golden.shape[0]; g++) {
      const row = out.data.subarray(10 * g * S, (10 * g + 1) * S);
      let best = -Infinity, bi = 0, pi = 0;
      for (let k = 0; k < S; k++) if (row[k] > best) { best = row[k]; bi = k; }
      for (let k = 0; k < S; k++) if (golden.data[g * S + k] < golden.data[g * S + pi]) pi = k;
      // the winner may tie in PocketSphinx's integers: count a win when ours is among PocketSphinx's best
      if (bi === pi || golden.data[g * S + bi] === 0) top1++;
      for (let k = 0; k < S; k++) {
        const ps = golden.data[g * S + k];
        if (ps < 1000) diffs.push(Math.abs((best - row[k]) / UNIT - ps));
      }
    }
    diffs.sort((a, b) => a - b);
    const median = diffs[diffs.length >> 1], p95 = diffs[Math.floor(diffs.length * 0.95)];
    // Measured when written: median 1.0, p95 3.2 units, best senone agreeing on 90% of frames (PocketSphinx
    // rounds each Gaussian's score to an integer, so near-ties go either way).
    assert.ok(median <= 2, `median |diff| ${median} units`);
    assert.ok(p95 <= 8, `p95 |diff| ${p95} units`);
    assert.ok(top1 / golden.shape[0] >= 0.85, `best senone agrees on ${top1} of ${golden.shape[0]} frames`);
  });
});
