import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Encoder, loadManifest, planChunks, type ModelDir } from '../../lib/encoder/index.js';
import { ModelError } from '../../lib/errors.js';
import type { Waveform } from '../../lib/types.js';
import { maxAbsDiff } from '../helpers/assert-close.js';
import { encoderFixture, importTestModels, variantModel } from '../helpers/models.js';
import { rng } from '../helpers/signals.js';

/** Speech-like test audio: noise bursts shaped by a slow envelope, deterministic. */
function audio(seconds: number, seed = 1): Waveform {
  const r = rng(seed);
  const n = Math.round(seconds * 16000);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.3 * Math.sin(2 * Math.PI * 3 * (i / 16000)) * (r() - 0.5) + 0.1 * Math.sin(i * 0.05);
  return { samples: x, sampleRate: 16000 };
}
const slice = (a: Waveform, s0: number, s1: number): Waveform => ({ samples: a.samples.slice(s0 * 16000, s1 * 16000), sampleRate: 16000 });
const rows = (f: Float32Array, dim: number, a: number, b: number): Float32Array => f.subarray(a * dim, b * dim);

describe('encoder: chunk plans', () => {
  it('one chunk when the input fits; otherwise kept regions tile [0, total) exactly', () => {
    assert.deepEqual(planChunks(100, 1500, 100), [{ start: 0, end: 100, keepStart: 0, keepEnd: 100 }]);
    for (const [total, chunk, ctx] of [[3750, 1500, 100], [10001, 1000, 50], [1501, 1500, 100], [5000, 300, 0]]) {
      const plan = planChunks(total, chunk, ctx);
      assert.equal(plan[0].keepStart, 0);
      assert.equal(plan[plan.length - 1].keepEnd, total);
      for (let k = 1; k < plan.length; k++) {
        assert.equal(plan[k].keepStart, plan[k - 1].keepEnd);
        assert.ok(plan[k].keepStart - plan[k].start >= ctx && plan[k].end - plan[k].start <= chunk);
      }
    }
    assert.equal(planChunks(3750, 1500, 100).length, 3, '75 s of Whisper frames in three 30 s windows');
    assert.throws(() => planChunks(10, 4, 2), /must exceed twice the context/);
  });
});

describe('encoder: the three kinds on the test encoders', function () {
  this.timeout(120000);
  let dir: string;
  let models: Record<'whisper' | 'waveform' | 'features', ModelDir>;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-enc-'));
    models = await importTestModels(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('whisper: 75 s is three windows, stitched; each kept region equals that window encoded alone', async () => {
    const enc = await Encoder.create(models.whisper, { threads: 1 });
    try {
      const a = audio(75);
      const out = await enc.encode(a);
      assert.equal(out.numFrames, 3750);
      assert.equal(out.dim, 8);
      assert.equal(out.frameShift, 0.02);
      // Windows start at 0, 26 and 52 s (30 s windows, 2 s of context at inner edges).
      const w1 = await enc.encode(slice(a, 0, 30));
      assert.equal(maxAbsDiff(rows(out.frames, 8, 0, 1400), rows(w1.frames, 8, 0, 1400)), 0);
      const w2 = await enc.encode(slice(a, 26, 56));
      assert.equal(maxAbsDiff(rows(out.frames, 8, 1400, 2700), rows(w2.frames, 8, 100, 1400)), 0);
      const w3 = await enc.encode(slice(a, 52, 75));
      assert.equal(maxAbsDiff(rows(out.frames, 8, 2700, 3750), rows(w3.frames, 8, 100, 1150)), 0);
    } finally {
      await enc.release();
    }
  });

  it('whisper: shorter audio is padded to 30 s and the output trimmed to its real length', async () => {
    const enc = await Encoder.create(models.whisper, { threads: 1 });
    try {
      const a = audio(5.01);
      const out = await enc.encode(a);
      assert.equal(out.numFrames, Math.ceil(a.samples.length / 320));
      // Padding with zeros inside the window is the same as real trailing silence.
      const padded = new Float32Array(30 * 16000);
      padded.set(a.samples);
      const full = await enc.encode({ samples: padded, sampleRate: 16000 });
      assert.equal(full.numFrames, 1500);
      assert.equal(maxAbsDiff(out.frames, rows(full.frames, 8, 0, out.numFrames)), 0);
    } finally {
      await enc.release();
    }
  });

  it('waveform (wav2vec2): 1 s gives 49 frames; chunked encoding of 50 s matches one-piece encoding', async () => {
    const one = await Encoder.create(models.waveform, { threads: 1, chunkSeconds: 600 });
    const chunked = await Encoder.create(models.waveform, { threads: 1, chunkSeconds: 7, contextSeconds: 0.5 });
    try {
      assert.equal((await one.encode(audio(1))).numFrames, 49);
      const a = audio(50, 3);
      const whole = await one.encode(a);
      const parts = await chunked.encode(a);
      assert.equal(parts.numFrames, whole.numFrames);
      assert.ok(maxAbsDiff(parts.frames, whole.frames) < 1e-5, `chunk-boundary difference ${maxAbsDiff(parts.frames, whole.frames)}`);
    } finally {
      await one.release();
      await chunked.release();
    }
  });

  it('features (ours): ceil(T/2) frames; chunked equals one piece; resamples 44.1 kHz input', async () => {
    const one = await Encoder.create(models.features, { threads: 1, chunkSeconds: 600 });
    const chunked = await Encoder.create(models.features, { threads: 1, chunkSeconds: 3, contextSeconds: 0.2 });
    try {
      const a = audio(20, 5);
      const whole = await one.encode(a);
      const T = 1 + Math.floor((a.samples.length - 400) / 160);
      assert.equal(whole.numFrames, Math.ceil(T / 2));
      const parts = await chunked.encode(a);
      assert.equal(parts.numFrames, whole.numFrames);
      assert.ok(maxAbsDiff(parts.frames, whole.frames) < 1e-5);
      const hi = await one.encode({ samples: new Float32Array(44100).fill(0.01), sampleRate: 44100 });
      assert.equal(hi.numFrames, Math.ceil((1 + Math.floor((16000 - 400) / 160)) / 2));
    } finally {
      await one.release();
      await chunked.release();
    }
  });

  it('inputs shorter than one window or chunk work for every kind', async () => {
    for (const m of Object.values(models)) {
      const enc = await Encoder.create(m, { threads: 1 });
      try {
        const out = await enc.encode(audio(0.5));
        assert.ok(out.numFrames >= 20 && out.numFrames <= 25, `${m.manifest.name}: ${out.numFrames}`);
        for (const v of out.frames) assert.ok(Number.isFinite(v));
      } finally {
        await enc.release();
      }
    }
  });

  it('ONNX Runtime\'s telemetry is off: sessions ran in this process and left no /tmp/mat-debug-<pid>.log', async () => {
    const enc = await Encoder.create(Object.values(models)[0], { threads: 1 });
    try {
      await enc.encode(audio(0.5));
    } finally {
      await enc.release();
    }
    assert.equal(process.env.ORT_DISABLE_TELEMETRY, '1');
    assert.ok(!fs.existsSync(`/tmp/mat-debug-${process.pid}.log`), 'ONNX Runtime telemetry wrote its debug log');
  });

  it('concurrent encode calls on one encoder give the same results as sequential ones', async () => {
    const enc = await Encoder.create(models.whisper, { threads: 1 });
    try {
      const inputs = [audio(3, 1), audio(4, 2), audio(2, 3), audio(5, 4)];
      const seq = [];
      for (const a of inputs) seq.push(await enc.encode(a));
      const par = await Promise.all(inputs.map((a) => enc.encode(a)));
      for (let i = 0; i < inputs.length; i++) assert.equal(maxAbsDiff(par[i].frames, seq[i].frames), 0);
    } finally {
      await enc.release();
    }
  });

  describe('errors: one clear message each', () => {
    const expectModelError = async (p: Promise<unknown>, pattern: RegExp): Promise<void> => {
      await assert.rejects(p, (err: unknown) => {
        assert.ok(err instanceof ModelError, String(err));
        assert.match(err.message, pattern);
        assert.ok(!err.message.includes('\n'));
        return true;
      });
    };

    it('missing ONNX file', async () => {
      const d = variantModel(models.features, dir, 'missing', () => undefined);
      fs.rmSync(path.join(d, 'encoder.onnx'));
      await expectModelError(Encoder.create(d), /encoder file encoder\.onnx is missing/);
    });

    it('corrupt and truncated ONNX files', async () => {
      const d1 = variantModel(models.features, dir, 'corrupt', () => undefined, encoderFixture('broken/not-onnx.onnx'));
      await expectModelError(Encoder.create(d1), /cannot load ONNX model .*corrupt or truncated/);
      const d2 = variantModel(models.features, dir, 'truncated', () => undefined, encoderFixture('broken/truncated.onnx'));
      await expectModelError(Encoder.create(d2), /cannot load ONNX model/);
    });

    it('sha256 mismatch', async () => {
      const d = variantModel(models.features, dir, 'sha', (m) => { m.encoder.sha256 = 'a'.repeat(64); });
      await expectModelError(Encoder.create(d), /sha256 mismatch: model\.json expects aaaaaaaaaaaa\.\.\., the file has [0-9a-f]{12}.*re-import/);
    });

    it('wrong input name or shape for the kind', async () => {
      const d1 = variantModel(models.whisper, dir, 'wrongname', () => undefined, encoderFixture('broken/whisper-wrong-input-name.onnx'));
      await expectModelError(Encoder.create(d1), /model\.json names input 'input_features' but the model's inputs are: mel/);
      const d2 = variantModel(models.whisper, dir, 'mels128', () => undefined, encoderFixture('broken/whisper-128-mels.onnx'));
      await expectModelError(Encoder.create(d2), /takes 128 mel bins but preset whisper-80 gives 80; use --preset whisper-128/);
      const d3 = variantModel(models.features, dir, 'wronglayout', (m) => { m.encoder.hiddenSize = 16; });
      await expectModelError(Encoder.create(d3), /hiddenSize 16 but output encoder_out has 8/);
    });

    it('NaN output', async () => {
      const d = variantModel(models.features, dir, 'nan', () => undefined, encoderFixture('broken/nan-output.onnx'));
      const enc = await Encoder.create(d, { threads: 1 });
      try {
        await expectModelError(enc.encode(audio(1)), /encoder produced a non-finite value \(NaN or Infinity\) at output frame 0/);
      } finally {
        await enc.release();
      }
    });

    it('invalid model.json fields name the field and what was expected', () => {
      const cases: [(m: Record<string, any>) => void, RegExp][] = [
        [(m) => { m.encoder.kind = 'rnnt'; }, /encoder\.kind must be one of features, whisper, waveform, found "rnnt"/],
        [(m) => { m.version = 9; }, /version must be 1/],
        [(m) => { delete m.license; }, /license must be a non-empty string, found nothing/],
        [(m) => { m.frontEnd.preset = 'mfcc'; }, /frontEnd\.preset must be one of whisper-80, whisper-128, kaldi-fbank-80/],
        [(m) => { m.encoder.frameShift = 0; }, /encoder\.frameShift must be a number of seconds/],
        [(m) => { m.frontEnd.normalization = { type: 'global', mean: [0], std: [1] }; }, /frontEnd\.normalization\.mean must be an array of 80 finite numbers/],
        [(m) => { m.ctcHead = { weights: 'w.npy', bias: 'b.npy', vocab: ['_', 'a'], blank: 2 }; }, /ctcHead\.blank must be an index into vocab/],
        [(m) => { m.encoder.file = '../x.onnx'; }, /encoder\.file must be a path inside the model directory/],
        [(m) => { m.trainableTop = { output: 'mid', block: 'conv', kernel: 4, blocks: ['top.0'] }; }, /trainableTop\.kernel must be an odd integer/],
        [(m) => { m.trainableTop = { output: 'mid', block: 'conv', kernel: 5, blocks: ['../top.0'] }; }, /trainableTop\.blocks must be a non-empty array of file prefixes/],
        [(m) => { m.decoding = { noLmWordBonus: 'low' }; }, /decoding\.noLmWordBonus must be a number from -20 to 20/],
        [(m) => { m.decoding = { blankPenalty: 50 }; }, /decoding\.blankPenalty must be a number from -20 to 20/],
      ];
      for (const [edit, pattern] of cases) {
        const d = variantModel(models.features, dir, 'invalid', edit);
        assert.throws(() => loadManifest(d), (err: unknown) => err instanceof ModelError && pattern.test(err.message) && err.message.includes('model.json'), pattern.source);
      }
      assert.throws(() => loadManifest(dir), /not a model directory \(no model\.json\)/);
    });
  });
});
