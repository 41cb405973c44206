import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadAudio } from '../../lib/audio/index.js';
import { align, rate } from '../../lib/eval/wer.js';
import { exportModel } from '../../lib/export/export.js';
import { getExtractor } from '../../lib/features/index.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { randomAdapter } from '../helpers/adapters.js';
import { maxAbsDiff } from '../helpers/assert-close.js';
import { audioFixture, ROOT } from '../helpers/fixtures.js';

/** The greedy CTC symbols of log-probabilities (T, V): best per frame, repeats merged, blanks dropped. */
function greedySymbols(logp: Float32Array, T: number, V: number, vocab: readonly string[], blank: number): string[] {
  const out: string[] = [];
  let prev = -1;
  for (let t = 0; t < T; t++) {
    let best = 0;
    for (let v = 1; v < V; v++) if (logp[t * V + v] > logp[t * V + best]) best = v;
    if (best !== prev && best !== blank) out.push(vocab[best]);
    prev = best;
  }
  return out;
}

describe('export: sherpa-onnx layout', function () {
  this.timeout(180000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-sherpa-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a Kaldi-fbank model gets it (graph: raw fbank in, the pipeline\'s log-probabilities out); an MFCC model does not', async () => {
    randomAdapter(path.join(ROOT, 'models', 'base-en'), path.join(dir, 'a'));
    const info = exportModel({ adapter: path.join(dir, 'a'), out: path.join(dir, 'e') });
    assert.deepEqual(info.sherpaOnnx, { dir: 'sherpa-onnx', model: 'model.onnx', tokens: 'tokens.txt', modelConfig: 'zipformerCtc', featureDim: 80 });
    assert.equal(fs.readFileSync(path.join(dir, 'e', 'sherpa-onnx', 'tokens.txt'), 'utf8').split('\n')[1], '\u2581 1');
    assert.equal(exportModel({ model: 'base-en-real', out: path.join(dir, 'real') }).sherpaOnnx, null);
    const audio = loadAudio(audioFixture('speech-en-gb-f3-16k.wav'));
    const f = getExtractor('kaldi-fbank-80').compute(audio); // not normalised: the graph does it
    const s = await ort.InferenceSession.create(path.join(dir, 'e', 'sherpa-onnx', 'model.onnx'));
    const rec = await loadRecognizer({ adapter: path.join(dir, 'a'), threads: 1 });
    try {
      assert.deepEqual(s.inputNames, ['x', 'x_lens']);
      const r = await s.run({ x: new ort.Tensor('float32', f.data, [1, f.numFrames, f.dim]), x_lens: new ort.Tensor('int64', BigInt64Array.from([BigInt(f.numFrames)]), [1]) });
      const want = await rec.logProbs(audio);
      assert.deepEqual(r.log_probs.dims, [1, want.T, want.V]);
      assert.deepEqual(Array.from(r.log_probs_len.data as BigInt64Array), [BigInt(want.T)]);
      const diff = maxAbsDiff(r.log_probs.data as Float32Array, want.logp);
      assert.ok(diff <= 1e-4, `max |sherpa graph - pipeline| = ${diff}`);
    } finally {
      await s.release();
      await rec.release();
    }
  });

  it('sherpa-onnx-node decodes it: its phones against ours from the same export', async function () {
    let sherpa: { OfflineRecognizer: new (c: object) => { createStream(): { acceptWaveform(w: object): void }; decode(s: object): void; getResult(s: object): { tokens: string[] } } };
    try {
      sherpa = createRequire(import.meta.url)('sherpa-onnx-node');
    } catch (err) {
      console.log(`    skipped: sherpa-onnx-node does not load here (${(err as Error).message.split('\n')[0]})`);
      return this.skip();
    }
    const e = path.join(dir, 'e'), sd = path.join(e, 'sherpa-onnx');
    const sr = new sherpa.OfflineRecognizer({ featConfig: { sampleRate: 16000, featureDim: 80 }, modelConfig: { zipformerCtc: { model: path.join(sd, 'model.onnx') }, tokens: path.join(sd, 'tokens.txt'), numThreads: 1, provider: 'cpu', debug: 0 }, decodingMethod: 'greedy_search' });
    const rec = await loadRecognizer({ model: e, threads: 1 });
    try {
      for (const wav of ['speech-en-us-16k.wav', 'speech-en-gb-f3-16k.wav', 'chirp-noise-16k.wav']) {
        const audio = loadAudio(audioFixture(wav));
        const st = sr.createStream();
        st.acceptWaveform({ samples: audio.samples, sampleRate: audio.sampleRate });
        sr.decode(st);
        const theirs = sr.getResult(st).tokens.map((t) => (t === '\u2581' ? ' ' : t)).filter((t) => t !== ' ');
        const lp = await rec.logProbs(audio);
        const ours = greedySymbols(lp.logp, lp.T, lp.V, rec.vocab.symbols, rec.vocab.blank).filter((t) => t !== ' ');
        const per = rate(align(ours, theirs));
        console.log(`    ${wav}: ${ours.length} phones ours, ${theirs.length} sherpa-onnx's, phone difference ${(100 * per).toFixed(1)}%`);
        // sherpa-onnx computes its own fbank (20-7600 Hz, frames not snipped at the edges): close to ours, not equal.
        if (ours.length >= 10) assert.ok(per < 0.25, `${wav}: phone difference ${per}`);
      }
    } finally {
      await rec.release();
    }
  });
});
