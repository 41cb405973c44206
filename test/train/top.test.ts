import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { loadAudio } from '../../lib/audio/index.js';
import { Encoder } from '../../lib/encoder/encoder.js';
import { loadManifest } from '../../lib/encoder/manifest.js';
import { loadTopBlocks } from '../../lib/encoder/top.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { adapterLogits, convBlockForward } from '../../lib/adapter/math.js';
import { AdapterModel, initAdapter } from '../../lib/train/adapter-model.js';
import { loadAdapter, saveAdapter } from '../../lib/adapter/io.js';
import { initTraining } from '../../lib/train/backend.js';
import { depthwiseConv1d } from '../../lib/train/depthwise.js';
import { trainAdapter } from '../../lib/train/trainer.js';
import { audioFixture } from '../helpers/fixtures.js';
import { encoderFixture, importTestModelWithHead, smallScottishData } from '../helpers/models.js';
import { rng } from '../helpers/signals.js';

const randn = (n: number, seed: number, scale = 1): Float32Array => { const r = rng(seed); return Float32Array.from({ length: n }, () => (r() - 0.5) * 2 * scale); };
const MODEL = encoderFixture('ours-top'); // exported by recipes/base-en/export.py (test/fixtures/make-top-model.py)

describe('train: --method top (the encoder\'s last blocks, fine-tuned)', function () {
  this.timeout(300000);

  it('the shipped top blocks run in JavaScript reproduce the ONNX encoder output', async () => {
    const md = loadManifest(MODEL);
    const enc = await Encoder.create(md, { threads: 1 });
    try {
      const audio = loadAudio(audioFixture('speech-en-us-16k.wav'));
      const out = await enc.encode(audio);
      const mid = await enc.encode(audio, md.manifest.trainableTop!.output);
      const top = loadTopBlocks(md);
      assert.equal(top.blocks.length, 2);
      let y = mid.frames;
      for (const b of top.blocks) y = convBlockForward(y, mid.numFrames, mid.dim, top.kernel, b);
      let diff = 0, differs = 0;
      for (let i = 0; i < y.length; i++) { diff = Math.max(diff, Math.abs(y[i] - out.frames[i])); differs = Math.max(differs, Math.abs(mid.frames[i] - out.frames[i])); }
      assert.ok(diff < 1e-4, `max |JS - ONNX| = ${diff}`);
      assert.ok(differs > 0.1, 'the top blocks change the hidden states (the check is not vacuous)');
      await assert.rejects(enc.encode(audio, 'no_such_output'), /has no output 'no_such_output'/);
    } finally {
      await enc.release();
    }
  });

  it('depthwiseConv1d: forward and hand-written gradient equal a sum of shifted slices under autodiff', async () => {
    const { tf } = await initTraining();
    const [B, T, d, k] = [2, 9, 5, 5];
    const x = tf.tensor3d(randn(B * T * d, 1), [B, T, d]), w = tf.tensor2d(randn(k * d, 2), [k, d]), b = tf.tensor1d(randn(d, 3));
    const upstream = tf.tensor3d(randn(B * T * d, 4), [B, T, d]);
    const slices = (xx: TF.Tensor3D, ww: TF.Tensor2D, bb: TF.Tensor1D): TF.Tensor3D => {
      const p = tf.pad(xx, [[0, 0], [2, 2], [0, 0]]);
      let u: TF.Tensor = tf.add(tf.zeros([B, T, d]), bb);
      for (let j = 0; j < k; j++) u = tf.add(u, tf.mul(tf.slice(p, [0, j, 0], [B, T, d]), tf.reshape(tf.slice(ww, [j, 0], [1, d]), [d])));
      return u as TF.Tensor3D;
    };
    const loss = (f: typeof slices) => (xx: TF.Tensor, ww: TF.Tensor, bb: TF.Tensor): TF.Scalar => tf.sum(tf.mul(f(xx as TF.Tensor3D, ww as TF.Tensor2D, bb as TF.Tensor1D), upstream));
    const mine = tf.grads(loss((xx, ww, bb) => depthwiseConv1d(tf, xx, ww, bb)))([x, w, b]);
    const ref = tf.grads(loss(slices))([x, w, b]);
    const close = (a: TF.Tensor, r: TF.Tensor, what: string): void => {
      const av = a.dataSync(), rv = r.dataSync();
      for (let i = 0; i < rv.length; i++) assert.ok(Math.abs(av[i] - rv[i]) < 1e-4, `${what}[${i}]: ${av[i]} vs ${rv[i]}`);
    };
    close(depthwiseConv1d(tf, x, w, b), slices(x, w, b), 'y');
    ['dx', 'dw', 'db'].forEach((n, i) => close(mine[i], ref[i], n));
    tf.dispose([x, w, b, upstream, ...mine, ...ref]);
  });

  it('TensorFlow.js forward equals the typed-array one; weights survive saving and loading', async () => {
    const { tf } = await initTraining();
    const md = loadManifest(MODEL);
    const top = loadTopBlocks(md);
    const d = 16, V = 29, T = 20;
    const w = initAdapter('top', d, V, randn(d * V, 5), randn(V, 6), 64, 3, 1, top);
    w.top![1].pwW = randn(d * d, 7, 0.5); // move away from the shipped values
    const h = randn(2 * T * d, 8, 2);
    const m = new AdapterModel(tf, w);
    const got = tf.tidy(() => m.logits(tf.tensor3d(h, [2, T, d])).dataSync());
    for (let b = 0; b < 2; b++) {
      const want = adapterLogits(w, h.subarray(b * T * d, (b + 1) * T * d), T);
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[b * T * V + i] - want[i]) < 1e-4, `b${b} i${i}: ${got[b * T * V + i]} vs ${want[i]}`);
    }
    m.dispose();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-top-io-'));
    try {
      const meta = { format: 'adapt-asr-adapter' as const, accent: 'x', method: 'top' as const, base: { name: 'tiny-top', modelVersion: '1', encoderSha256: md.manifest.encoder.sha256 },
        hyperParameters: {}, data: { minutes: 1, utterances: 1, speakers: 1, devUtterances: 0, devSpeakers: [], skipped: 0, source: '' },
        dev: { baseWer: 1, adaptedWer: 1, baseCer: 1, adaptedCer: 1, words: 0, accepted: false, verdict: '' }, training: { epochs: 0, bestEpoch: 0, seconds: 0, backend: 'wasm' }, toolkitVersion: '0', date: '' };
      saveAdapter(path.join(dir, 'a'), meta, [w], false);
      const [back] = loadAdapter(path.join(dir, 'a')).weights;
      assert.equal(back.kernel, top.kernel);
      assert.deepEqual(Array.from(adapterLogits(back, h, 2 * T)), Array.from(adapterLogits(w, h, 2 * T)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('trains end to end; the recognizer with a fresh top adapter equals the base model; a model without top blocks is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-top-'));
    try {
      const data = smallScottishData(dir, 12);
      const out = path.join(dir, 'top');
      const r = await trainAdapter({ accent: 'scots', data, model: MODEL, out, method: 'top', epochs: 2, threads: 1 });
      assert.equal(r.meta.method, 'top');
      const [weights] = loadAdapter(out).weights;
      assert.equal(weights.top!.length, 2);
      // Identity at step 0, through the whole recognizer: encoder_top_in -> shipped blocks -> head.
      const md = loadManifest(MODEL);
      const top = loadTopBlocks(md);
      const { readNpy } = await import('../../lib/io/npy.js');
      const hw = readNpy(path.join(MODEL, 'head.weight.npy')).data, hb = readNpy(path.join(MODEL, 'head.bias.npy')).data;
      const fresh = initAdapter('top', 16, 29, hw, hb, 64, 3, 1, top);
      const base = await loadRecognizer({ model: MODEL, threads: 1 });
      const adapted = await loadRecognizer({ model: MODEL, adapter: { weights: fresh }, threads: 1 });
      try {
        const audio = loadAudio(audioFixture('speech-en-us-16k.wav'));
        const a = await base.logProbs(audio), b = await adapted.logProbs(audio);
        assert.equal(a.T, b.T);
        let diff = 0;
        for (let i = 0; i < a.logp.length; i++) diff = Math.max(diff, Math.abs(a.logp[i] - b.logp[i]));
        assert.ok(diff < 1e-4, `max |base - fresh top adapter| = ${diff}`);
      } finally {
        await base.release();
        await adapted.release();
      }
      const plain = (await importTestModelWithHead(dir, 'no-top')).dir;
      await assert.rejects(trainAdapter({ accent: 'scots', data, model: plain, out: path.join(dir, 'x'), method: 'top', epochs: 1 }), /ships no trainable top blocks/);
      assert.ok(!fs.existsSync(path.join(dir, 'x')), 'nothing written');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
