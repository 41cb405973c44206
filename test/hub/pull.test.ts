/**
 * `models pull` against a local server that speaks the Hub's protocol (test/helpers/hub-server.ts),
 * over tiny random-weight repos (test/fixtures/make-hub-fixtures.py).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSession } from '../../lib/encoder/session.js';
import { pullModel, ctcVocabulary, type PullOptions } from '../../lib/hub/pull.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { logSoftmaxRows } from '../../lib/math/matrix.js';
import { normalizeWaveform } from '../../lib/features/normalize.js';
import { startHubServer, type HubFixtureServer } from '../helpers/hub-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'hub');

/** A waveform with some structure: two tones and noise, 1.5 s at 16 kHz. */
function audio(): Float32Array {
  const x = new Float32Array(24000);
  let s = 7;
  for (let i = 0; i < x.length; i++) { s = (s * 16807) % 2147483647; x[i] = 0.3 * Math.sin(i * 0.05) + 0.2 * Math.sin(i * 0.31 * (1 + i / 48000)) + 0.1 * (s / 2147483647 - 0.5); }
  return x;
}

/** The original graph's log-softmax(logits) (T, V) for the audio, normalised as the frontEnd says. */
async function originalLogProbs(file: string, x: Float32Array): Promise<{ lp: Float32Array; T: number; V: number }> {
  const session = await createSession(file, { threads: 1 });
  try {
    const input = normalizeWaveform(x);
    const out = await session.run('input_values', input, [1, input.length], 'logits');
    const [, T, V] = out.dims;
    const lp = Float32Array.from(out.data as Float32Array);
    logSoftmaxRows(lp, T, V);
    return { lp, T, V };
  } finally {
    await session.release();
  }
}

/** transformers' CTC decoding of logits: argmax per frame, repeats merged, pad dropped, then special tokens; '|' is a space. */
function hfGreedy(lp: Float32Array, T: number, V: number, vocab: Record<string, number>): string {
  const tok = Object.fromEntries(Object.entries(vocab).map(([k, v]) => [v, k]));
  const ids: number[] = [];
  for (let t = 0; t < T; t++) {
    let best = 0;
    for (let v = 1; v < V; v++) if (lp[t * V + v] > lp[t * V + best]) best = v;
    if (ids.length === 0 || ids[ids.length - 1] !== best) ids.push(best);
  }
  return ids.filter((i) => i !== vocab['<pad>']).map((i) => tok[i]).filter((s) => !/^<.*>$/.test(s)).join('').replace(/\|/g, ' ').toLowerCase().replace(/\s+/g, ' ').trim();
}

describe('models pull (a local Hub)', function () {
  this.timeout(60_000);
  let hub: HubFixtureServer, tmp: string, opts: (repo: string, more?: Partial<PullOptions>) => PullOptions;
  before(async () => {
    hub = await startHubServer(FIX);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-pull-'));
    opts = (repo, more = {}) => ({ repo, endpoint: hub.url, modelsDir: path.join(tmp, 'models'), cacheDir: path.join(tmp, 'cache'), offline: false, ...more });
  });
  after(async () => {
    await hub.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a wav2vec2 CTC repo: split into encoder and head, log-probabilities equal the original log-softmax, greedy text equals transformers-style decoding', async () => {
    const r = await pullModel(opts('test/wav2vec2-ctc'));
    assert.equal(r.kind, 'ctc');
    const m = r.model.manifest;
    assert.equal(m.encoder.kind, 'waveform');
    assert.equal(m.encoder.frameShift, 0.02);
    assert.equal(m.source?.commit, hub.commitOf('test/wav2vec2-ctc'));
    assert.ok(m.source!.files.some((f) => f.path === 'onnx/model.onnx' && /^[0-9a-f]{64}$/.test(f.sha256)));
    assert.deepEqual(m.ctcHead!.vocab.slice(0, 8), ['<blank>', '', '', '', ' ', 'e', 't', 'a']);
    const x = audio();
    const orig = await originalLogProbs(path.join(FIX, 'wav2vec2-ctc', 'onnx', 'model.onnx'), x);
    const rec = await loadRecognizer({ model: r.model.dir, threads: 1 });
    try {
      const ours = await rec.logProbs({ samples: x, sampleRate: 16000 });
      assert.equal(ours.T, orig.T);
      assert.equal(ours.V, orig.V);
      let maxDiff = 0;
      for (let i = 0; i < ours.logp.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.logp[i] - orig.lp[i]));
      assert.ok(maxDiff <= 1e-4, `max |diff| ${maxDiff}`);
      const vocab = JSON.parse(fs.readFileSync(path.join(FIX, 'wav2vec2-ctc', 'vocab.json'), 'utf8'));
      const want = hfGreedy(orig.lp, orig.T, orig.V, vocab);
      assert.ok(want.length > 5, `the random model says something: '${want}'`);
      const got = await rec.transcribe({ samples: x, sampleRate: 16000 }, { beam: 1, useLm: false });
      assert.equal(got.text, want);
      const beam = await rec.transcribe({ samples: x, sampleRate: 16000 }); // beam + our LM: runs, words only from the vocabulary's letters
      assert.match(beam.text, /^[a-z' ]*$/);
    } finally {
      await rec.release();
    }
  });

  it('a pulled CTC model adapts like any other: train an adapter on its hidden states, then eval with it', async () => {
    const { trainAdapter } = await import('../../lib/train/trainer.js');
    const { evaluate } = await import('../../lib/pipeline/evaluate.js');
    const r = await pullModel(opts('test/wav2vec2-ctc', { name: 'w2v-adapt' }));
    const scot = path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test');
    const t = await trainAdapter({ accent: 'probe', model: r.model.dir, data: scot, out: path.join(tmp, 'adapters', 'probe'), epochs: 2, speeds: [1], seed: 1, devDecoding: 'greedy' });
    assert.equal(t.meta.base.name, 'w2v-adapt');
    assert.equal(t.meta.weights.dim, r.model.manifest.encoder.hiddenSize);
    assert.equal(t.history.length, 2);
    assert.equal(typeof t.meta.dev.accepted, 'boolean');
    const rec = await loadRecognizer({ model: r.model.dir, adapter: t.out, threads: 1 });
    try {
      const e = await evaluate(rec, scot, { beam: 1, useLm: false });
      assert.equal(e.utterances, 48);
      assert.ok(e.wer >= 0.9, `a random-weight model stays wrong: ${e.wer}`);
    } finally {
      await rec.release();
    }
  });

  it('the quantised graph: its projection is dequantised; log-probabilities near the original, most frames agree', async () => {
    const r = await pullModel(opts('test/wav2vec2-ctc', { dtype: 'q8', name: 'w2v-q8' }));
    assert.match(r.model.manifest.source!.converted!, /quantized/);
    const x = audio();
    const orig = await originalLogProbs(path.join(FIX, 'wav2vec2-ctc', 'onnx', 'model_quantized.onnx'), x);
    const rec = await loadRecognizer({ model: r.model.dir, threads: 1 });
    try {
      const ours = await rec.logProbs({ samples: x, sampleRate: 16000 });
      let agree = 0, maxDiff = 0;
      for (let t = 0; t < ours.T; t++) {
        let a = 0, b = 0;
        for (let v = 0; v < ours.V; v++) {
          if (ours.logp[t * ours.V + v] > ours.logp[t * ours.V + a]) a = v;
          if (orig.lp[t * ours.V + v] > orig.lp[t * ours.V + b]) b = v;
          maxDiff = Math.max(maxDiff, Math.abs(ours.logp[t * ours.V + v] - orig.lp[t * ours.V + v]));
        }
        if (a === b) agree++;
      }
      // The original also quantises the hidden state to 8 bits on the fly; our head keeps it in float.
      assert.ok(maxDiff < 0.5, `max |diff| ${maxDiff}`);
      assert.ok(agree / ours.T >= 0.9, `argmax agrees on ${agree} of ${ours.T} frames`);
    } finally {
      await rec.release();
    }
  });

  it('external weight data, Whisper (encoder only, says a head is needed) and a repo in our own format', async () => {
    const ext = await pullModel(opts('test/external'));
    assert.ok(fs.existsSync(path.join(ext.model.dir, 'model.onnx_data')));
    const x = audio();
    const orig = await originalLogProbs(path.join(FIX, 'external', 'onnx', 'model.onnx'), x);
    const rec = await loadRecognizer({ model: ext.model.dir, threads: 1 });
    const ours = await rec.logProbs({ samples: x, sampleRate: 16000 });
    await rec.release();
    let maxDiff = 0;
    for (let i = 0; i < ours.logp.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours.logp[i] - orig.lp[i]));
    assert.ok(maxDiff <= 1e-4, `max |diff| ${maxDiff}`);

    const w = await pullModel(opts('test/whisper'));
    assert.equal(w.kind, 'encoder');
    assert.equal(w.model.manifest.encoder.kind, 'whisper');
    assert.equal(w.model.manifest.ctcHead, undefined);
    assert.match(w.note!, /--method head --as-base/);

    const o = await pullModel(opts('test/ours', { name: 'ours-pulled' }));
    assert.equal(o.kind, 'adapt-asr');
    assert.equal(o.model.manifest.name, 'ours-pulled');
    assert.ok(o.model.manifest.trainableTop);
  });

  it('the cache: a second pull needs no network (HF_HUB_OFFLINE), and a pull of a cached commit downloads nothing', async () => {
    const before = hub.requests.length;
    const r = await pullModel(opts('test/wav2vec2-ctc', { name: 'offline-copy', offline: true, endpoint: 'http://127.0.0.1:9' }));
    assert.equal(hub.requests.length, before);
    assert.equal(r.model.manifest.source!.commit, hub.commitOf('test/wav2vec2-ctc'));
    await pullModel(opts('test/wav2vec2-ctc', { name: 'again' }));
    assert.ok(!hub.requests.slice(before).some((p) => p.startsWith('/cdn/') || p.includes('/resolve/')), hub.requests.slice(before).join(' '));
  });

  it('a download killed halfway resumes from where it stopped', async () => {
    const cache = path.join(tmp, 'cache-resume');
    hub.cutOnce = { suffix: 'external/onnx/model.onnx_data', bytes: 10_000 };
    await assert.rejects(pullModel(opts('test/external', { name: 'resumed', cacheDir: cache })), /interrupted at \d+ of \d+ bytes .*run the command again to resume/);
    assert.ok(!fs.existsSync(path.join(tmp, 'models', 'resumed')), 'nothing half-installed');
    const partial = fs.readdirSync(path.join(cache, 'models--test--external', 'blobs')).filter((f) => f.endsWith('.incomplete'));
    assert.equal(partial.length, 1);
    const got = fs.statSync(path.join(cache, 'models--test--external', 'blobs', partial[0])).size;
    assert.ok(got > 0 && got <= 10_000, `${got} bytes kept for the retry`);
    const requestsBefore = hub.requests.length;
    const r = await pullModel(opts('test/external', { name: 'resumed', cacheDir: cache }));
    assert.ok(hub.requests.length > requestsBefore);
    assert.ok(fs.existsSync(path.join(r.model.dir, 'model.onnx_data')));
    assert.equal(fs.readFileSync(path.join(r.model.dir, 'model.onnx_data')).length, fs.statSync(path.join(FIX, 'external', 'onnx', 'model.onnx_data')).size);
  });

  it('a tampered file is refused, deleted from the cache, and nothing is installed', async () => {
    const cache = path.join(tmp, 'cache-tamper');
    hub.tamper = { suffix: 'wav2vec2-ctc/onnx/model.onnx' };
    try {
      await assert.rejects(pullModel(opts('test/wav2vec2-ctc', { name: 'tampered', cacheDir: cache })), /checksum mismatch for onnx\/model\.onnx/);
    } finally {
      hub.tamper = undefined;
    }
    assert.ok(!fs.existsSync(path.join(tmp, 'models', 'tampered')));
    assert.deepEqual(fs.readdirSync(path.join(cache, 'models--test--wav2vec2-ctc', 'blobs')).filter((f) => f.endsWith('.incomplete')), []);
  });

  it('errors: each one line naming the problem, nothing installed', async () => {
    const cases: [Partial<PullOptions> & { repo: string }, RegExp][] = [
      [{ repo: 'test/bert' }, /architecture BertForMaskedLM is not supported; adapt-asr pulls Wav2Vec2ForCTC, HubertForCTC, WavLMForCTC, Data2VecAudioForCTC, WhisperForConditionalGeneration/],
      [{ repo: 'test/no-onnx' }, /has no ONNX files/],
      [{ repo: 'test/nothing-here' }, /test\/nothing-here: not found on .* HTTP 404/],
      [{ repo: 'test/wav2vec2-ctc@v9' }, /not found .*revision 'v9'/],
      [{ repo: 'test/wav2vec2-ctc', file: 'onnx/missing.onnx' }, /no file onnx\/missing\.onnx \(ONNX files: /],
      [{ repo: 'test/wav2vec2-ctc', file: 'onnx/model_fp16.onnx' }, /cannot split the CTC head: .*pull the fp32 graph instead: --file onnx\/model\.onnx/],
      [{ repo: 'test/private' }, /needs a token: set HF_TOKEN/],
      [{ repo: 'test/private', token: 'hf_wrong' }, /access denied .*HF_TOKEN may not reach/],
      [{ repo: 'test/wav2vec2-ctc', endpoint: 'http://127.0.0.1:9' }, /cannot reach http:\/\/127\.0\.0\.1:9 .*HF_HUB_OFFLINE/],
      [{ repo: 'test/whisper', offline: true, cacheDir: path.join(tmp, 'empty-cache') }, /not in the cache .*HF_HUB_OFFLINE/],
      [{ repo: 'not a repo' }, /not a Hub model repo/],
    ];
    for (const [o, re] of cases) {
      const name = `err-${Math.random().toString(36).slice(2, 8)}`;
      await assert.rejects(pullModel(opts(o.repo, { ...o, name })), (err: Error) => {
        assert.match(err.message, re);
        assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
        return true;
      });
      assert.ok(!fs.existsSync(path.join(tmp, 'models', name)));
    }
    const ok = await pullModel(opts('test/private', { token: 'hf_test', name: 'private-ok' }));
    assert.equal(ok.kind, 'ctc');
  });

  it('a full disk is a one-line error and the retry resumes', async function () {
    if (!fs.existsSync('/dev/full')) this.skip();
    const cache = path.join(tmp, 'cache-full');
    const blobs = path.join(cache, 'models--test--whisper', 'blobs');
    fs.mkdirSync(blobs, { recursive: true });
    const big = (await import('node:crypto')).createHash('sha256').update(fs.readFileSync(path.join(FIX, 'whisper', 'onnx', 'encoder_model.onnx'))).digest('hex');
    fs.symlinkSync('/dev/full', path.join(blobs, `${big}.incomplete`)); // every write to it fails with ENOSPC
    await assert.rejects(pullModel(opts('test/whisper', { name: 'full', cacheDir: cache })), /disk full while downloading/);
    fs.rmSync(path.join(blobs, `${big}.incomplete`));
    assert.equal((await pullModel(opts('test/whisper', { name: 'full', cacheDir: cache }))).kind, 'encoder');
  });

  it('ctcVocabulary: pad is the blank, | a space, specials silent, letters lower case', () => {
    const v = ctcVocabulary({ '<pad>': 0, '<s>': 1, '</s>': 2, '<unk>': 3, '|': 4, E: 5, "'": 6 }, 7);
    assert.deepEqual(v, { symbols: ['<blank>', '', '', '', ' ', 'e', "'"], blank: 0 });
    assert.throws(() => ctcVocabulary({ a: 0 }, 1), /no <pad> token/);
  });
});
