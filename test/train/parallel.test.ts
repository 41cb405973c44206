/**
 * Training on every core: gradient shards (their sum is the whole batch's gradient, on this thread
 * or a worker), the encoder pool (the same frames as one encoder), and the encoding cache.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { cachedFileEncoder, EncodingCache } from '../../lib/encoder/cache.js';
import { Encoder } from '../../lib/encoder/encoder.js';
import { loadManifest } from '../../lib/encoder/manifest.js';
import { EncoderPool, localFileEncoder, type FileEncoder, type FileEncoding } from '../../lib/encoder/pool.js';
import { InputError } from '../../lib/errors.js';
import { loadAdapter } from '../../lib/adapter/io.js';
import { adapterLogits } from '../../lib/adapter/math.js';
import { AdapterModel, initAdapter } from '../../lib/train/adapter-model.js';
import { initTraining } from '../../lib/train/backend.js';
import { GradPool, localGradients } from '../../lib/train/grad-pool.js';
import { shardGradients, type Shard, type StepConfig } from '../../lib/train/shard.js';
import { trainAdapter } from '../../lib/train/trainer.js';
import { ROOT } from '../helpers/fixtures.js';
import { importTestModelWithHead, smallScottishData } from '../helpers/models.js';
import { rng } from '../helpers/signals.js';

const D = 8, V = 29;
const randn = (n: number, seed: number, scale = 1): Float32Array => { const r = rng(seed); return Float32Array.from({ length: n }, () => (r() - 0.5) * 2 * scale); };

/** Utterances (frames, T, labels) of a toy batch. */
function toyBatch(): { frames: Float32Array; T: number; labels: Int32Array }[] {
  return [14, 9, 20, 12, 17].map((T, i) => ({ frames: randn(T * D, 100 + i, 2), T, labels: Int32Array.from({ length: 3 + (i % 3) }, (_, j) => 1 + ((i * 7 + j * 5) % (V - 1))) }));
}

/** The utterances as one shard of a batch of `all` (zero-padded to the longest). */
function shardOf(us: ReturnType<typeof toyBatch>, all: ReturnType<typeof toyBatch>): Shard {
  const T = Math.max(...us.map((u) => u.T));
  const x = new Float32Array(us.length * T * D);
  us.forEach((u, b) => x.set(u.frames, b * T * D));
  return { x, B: us.length, T, labels: us.map((u) => u.labels), lengths: us.map((u) => u.T), batchUtterances: all.length, batchFrames: all.reduce((a, u) => a + u.T, 0), dropSeed: 1 };
}

describe('train on every core', function () {
  this.timeout(120000);
  const config: StepConfig = { dropout: 0, kld: 0, blank: 0, d: D, V, trainHead: true };
  // An adapter away from its identity start, so that every weight has a gradient.
  const weights = { ...initAdapter('adapter', D, V, randn(D * V, 1), randn(V, 2), 4, 3, 7), upW: randn(4 * D, 3, 0.5) };

  it('the gradients of a batch cut into shards add up to the whole batch\'s', async () => {
    const { tf } = await initTraining();
    const model = new AdapterModel(tf, weights);
    try {
      const all = toyBatch();
      const whole = shardGradients(tf, model, shardOf(all, all), config);
      const a = shardGradients(tf, model, shardOf(all.slice(0, 2), all), config), b = shardGradients(tf, model, shardOf(all.slice(2), all), config);
      assert.ok(Math.abs(whole.loss - (a.loss + b.loss)) < 1e-4, `loss ${whole.loss} against ${a.loss} + ${b.loss}`);
      assert.deepEqual(Object.keys(whole.grads), ['downB', 'downW', 'headB', 'headW', 'lnBias', 'lnGain', 'upB', 'upW']);
      for (const k of Object.keys(whole.grads)) {
        const w = whole.grads[k].dataSync(), s = tf.add(a.grads[k], b.grads[k]).dataSync();
        let norm = 0, err = 0;
        for (let i = 0; i < w.length; i++) { norm = Math.max(norm, Math.abs(w[i])); err = Math.max(err, Math.abs(w[i] - s[i])); }
        assert.ok(norm > 1e-4, `${k}: a gradient to compare`);
        assert.ok(err < 1e-5 * Math.max(1, norm), `${k}: max difference ${err} (largest ${norm})`);
      }
      tf.dispose([...Object.values(whole.grads), ...Object.values(a.grads), ...Object.values(b.grads)]);
    } finally {
      model.dispose();
    }
  });

  it('with its valid-frame mask, a padded utterance gets the logits it gets alone at inference', async () => {
    const { tf } = await initTraining();
    const w = { ...weights, lnBias: randn(D, 5, 0.5) };
    const model = new AdapterModel(tf, w);
    try {
      const T = 10, Tpad = 16;
      const h = randn(T * D, 42, 2);
      const x = new Float32Array(Tpad * D);
      x.set(h);
      const mask = new Float32Array(Tpad).fill(1, 0, T);
      const got = tf.tidy(() => model.logits(tf.tensor3d(x, [1, Tpad, D]), 0, undefined, tf.tensor3d(mask, [1, Tpad, 1])).dataSync());
      const want = adapterLogits(w, h, T);
      for (let i = 0; i < T * V; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4, `logit ${i}: ${got[i]} against ${want[i]}`);
      const unmasked = tf.tidy(() => model.logits(tf.tensor3d(x, [1, Tpad, D])).dataSync());
      let diff = 0;
      for (let i = 0; i < T * V; i++) diff = Math.max(diff, Math.abs(unmasked[i] - want[i]));
      assert.ok(diff > 1e-3, 'without the mask the last frame sees the padding');
    } finally {
      model.dispose();
    }
  });

  it('a worker thread computes a shard as this thread does: pooled gradients equal local ones', async () => {
    const { tf } = await initTraining();
    const model = new AdapterModel(tf, weights);
    const pool = (await GradPool.start(2, weights, config))!;
    try {
      assert.equal(pool.shards, 2);
      const all = toyBatch();
      const local = localGradients(tf, model, shardOf(all, all), config);
      const pooled = await pool.gradients(tf, model, [shardOf(all.slice(0, 3), all), shardOf(all.slice(3), all)]);
      assert.deepEqual(Object.keys(pooled.grads).sort(), Object.keys(local.grads).sort());
      assert.ok(Math.abs(local.loss - pooled.loss) < 1e-4);
      for (const k of Object.keys(local.grads)) {
        const l = local.grads[k].dataSync(), p = pooled.grads[k].dataSync();
        for (let i = 0; i < l.length; i++) assert.ok(Math.abs(l[i] - p[i]) < 1e-5 * Math.max(1, Math.abs(l[i])), `${k}[${i}]: ${l[i]} against ${p[i]}`);
      }
      // The worker reads the weights each step: after an update it follows.
      model.load({ headB: new Float32Array(V).fill(0.5) });
      const again = await pool.gradients(tf, model, [shardOf(all.slice(0, 3), all), shardOf(all.slice(3), all)]);
      const ref = localGradients(tf, model, shardOf(all, all), config);
      assert.ok(Math.abs(again.loss - ref.loss) < 1e-4 && Math.abs(again.loss - local.loss) > 1e-3, `loss after the update ${again.loss}, expected ${ref.loss}`);
      tf.dispose([...Object.values(local.grads), ...Object.values(pooled.grads), ...Object.values(again.grads), ...Object.values(ref.grads)] as TF.Tensor[]);
    } finally {
      await pool.close();
      model.dispose();
    }
  });

  describe('encoding', () => {
    let dir: string, model: ReturnType<typeof loadManifest>;
    const files = ['speech-en-us-16k.wav', 'speech-en-gb-f3-16k.wav', 'chirp-noise-16k.wav'].map((f) => path.join(ROOT, 'audio-fixtures', f));
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-parallel-'));
      model = loadManifest((await importTestModelWithHead(dir, 'tiny')).dir);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('a pool of encoding threads gives the frames one encoder gives, at every speed, and names an unreadable file', async () => {
      const enc = await Encoder.create(model, { threads: 1 });
      const pool = EncoderPool.create(model, 2);
      try {
        const local = localFileEncoder(enc);
        const got = await Promise.all(files.map((f) => pool.encodeFile(f, [1, 0.9])));
        for (const [i, f] of files.entries()) {
          const want = await local.encodeFile(f, [1, 0.9]);
          assert.equal(got[i].seconds, want.seconds);
          for (const j of [0, 1]) {
            assert.equal(got[i].outputs[j].factor, [1, 0.9][j]);
            assert.equal(got[i].outputs[j].numFrames, want.outputs[j].numFrames);
            assert.deepEqual(got[i].outputs[j].frames, want.outputs[j].frames);
          }
          assert.ok(got[i].outputs[1].numFrames > got[i].outputs[0].numFrames, 'slower speech, more frames');
        }
        const bad = path.join(ROOT, 'test', 'fixtures', 'wav', 'not-a-wav.wav');
        await assert.rejects(pool.encodeFile(bad, [1]), (err: Error) => err instanceof InputError && err.message.startsWith(bad));
        assert.equal((await pool.encodeFile(files[0], [1])).outputs[0].numFrames, got[0].outputs[0].numFrames, 'the pool goes on after a bad file');
      } finally {
        await pool.release();
        await enc.release();
      }
    });

    it('the cache answers a second request without the encoder, and misses on other audio, factors, models or a damaged entry', async () => {
      const enc = await Encoder.create(model, { threads: 1 });
      const asked: string[] = [];
      const inner: FileEncoder = { encodeFile: (f, factors, o) => { asked.push(`${path.basename(f)} ${factors.join(',')}`); return localFileEncoder(enc).encodeFile(f, factors, o); }, release: async () => undefined };
      const cache = new EncodingCache(path.join(dir, 'cache'), 2 ** 30);
      const c = cachedFileEncoder(inner, cache, 'model-a', model.manifest.encoder.hiddenSize);
      try {
        const first = await c.encodeFile(files[0], [1, 1.1]);
        const second = await c.encodeFile(files[0], [1, 1.1]);
        assert.deepEqual(asked, ['speech-en-us-16k.wav 1,1.1']);
        assert.equal(second.seconds, first.seconds);
        for (const j of [0, 1]) assert.deepEqual(second.outputs[j], first.outputs[j]);
        await c.encodeFile(files[0], [0.9, 1]);
        assert.deepEqual(asked.slice(1), ['speech-en-us-16k.wav 0.9'], 'only the factor not yet cached is encoded');
        // The same audio under another name hits; changed audio misses.
        const copy = path.join(dir, 'copy.wav');
        fs.copyFileSync(files[0], copy);
        await c.encodeFile(copy, [1]);
        assert.equal(asked.length, 2);
        const b = fs.readFileSync(copy);
        b[b.length - 1] ^= 1;
        fs.writeFileSync(copy, b);
        await c.encodeFile(copy, [1]);
        assert.deepEqual(asked.slice(2), ['copy.wav 1']);
        // Another model key misses.
        await cachedFileEncoder(inner, cache, 'model-b', model.manifest.encoder.hiddenSize).encodeFile(files[0], [1]);
        assert.equal(asked.length, 4);
        assert.equal(cache.hits, 4);
        // A truncated entry is a miss, and is written again.
        const entries = fs.readdirSync(cache.dir, { recursive: true }).map(String).filter((f) => f.endsWith('.f32'));
        assert.equal(entries.length, 5);
        for (const e of entries) fs.truncateSync(path.join(cache.dir, e), 30);
        const redo = await c.encodeFile(files[0], [1]);
        assert.equal(asked.length, 5);
        assert.deepEqual(redo.outputs[0].frames, first.outputs[0].frames);
        // Bounded: pruning to 1 byte removes everything; clear() empties it.
        assert.equal(cache.stats().entries, 5);
        const small = new EncodingCache(path.join(dir, 'cache'), 1);
        assert.ok(small.prune() > 0);
        assert.equal(small.stats().entries, 0);
        await c.encodeFile(files[1], [1]);
        assert.equal(cache.clear(), 1);
        assert.equal(cache.stats().entries, 0);
      } finally {
        await enc.release();
      }
    });

    it('train on 2 cores: a second run on the same data finds every encoding in the cache and trains the same adapter', async () => {
      const data = smallScottishData(dir, 12);
      const lines: string[][] = [[], []];
      const outs = [path.join(dir, 'a1'), path.join(dir, 'a2')];
      const shared = process.env.ADAPT_ASR_CACHE;
      process.env.ADAPT_ASR_CACHE = path.join(dir, 'own-cache'); // empty: other tests encode these files too
      try {
        for (const i of [0, 1]) await trainAdapter({ accent: 'p', data, model: model.dir, out: outs[i], epochs: 2, threads: 2, onLog: (l) => lines[i].push(l) });
      } finally {
        process.env.ADAPT_ASR_CACHE = shared;
      }
      const hits = (ls: string[]): string => ls.find((l) => l.startsWith('encoding cache:')) ?? 'no cache line';
      assert.match(hits(lines[0]), /^encoding cache: 0 of (\d+) encodings found/);
      const n = /of (\d+) encodings/.exec(hits(lines[0]))![1];
      assert.match(hits(lines[1]), new RegExp(`^encoding cache: ${n} of ${n} encodings found`));
      // --no-cache (cache: false) neither reads nor writes it; neither does a limit of 0 MB.
      const off = path.join(dir, 'off-cache');
      process.env.ADAPT_ASR_CACHE = off;
      try {
        const logs: string[] = [];
        await trainAdapter({ accent: 'p', data, model: model.dir, out: path.join(dir, 'a3'), epochs: 1, threads: 2, cache: false, onLog: (l) => logs.push(l) });
        process.env.ADAPT_ASR_CACHE_MB = '0';
        await trainAdapter({ accent: 'p', data, model: model.dir, out: path.join(dir, 'a4'), epochs: 1, threads: 1, onLog: (l) => logs.push(l) });
        assert.ok(!logs.some((l) => l.startsWith('encoding cache:')), 'no cache line');
        assert.ok(!fs.existsSync(off), 'nothing written');
      } finally {
        process.env.ADAPT_ASR_CACHE = shared;
        delete process.env.ADAPT_ASR_CACHE_MB;
      }
      const [a, b] = outs.map((o) => loadAdapter(o));
      assert.deepEqual(a.weights[0].upW, b.weights[0].upW);
      assert.ok(a.weights[0].upW!.some((x) => x !== 0), 'the adapter trained');
      assert.ok(Object.keys(JSON.parse(fs.readFileSync(path.join(outs[0], 'report.json'), 'utf8')).phases).includes('train steps'));
    });
  });
});
