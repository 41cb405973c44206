/**
 * The second bundled model end to end, as base-en is tested: it loads by name, decodes with its LM,
 * takes an adapter (and an ensemble) trained by the same trainer and judged by the same guard, and
 * streams to the same result as offline recognition. Bounds are loose around measured values
 * (models/base-en-real/MODEL_CARD.md has the numbers): they catch a broken pipeline.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { loadAdapter } from '../../lib/adapter/io.js';
import { loadAudio } from '../../lib/audio/index.js';
import { arpaHeader } from '../../lib/decode/arpa.js';
import { scoreUtterance } from '../../lib/eval/wer.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { trainAdapter } from '../../lib/train/trainer.js';
import { audioFixture, ROOT } from '../helpers/fixtures.js';
import { smallScottishData } from '../helpers/models.js';

const DIR = path.join(ROOT, 'models', 'base-en-real');

describe('base-en-real: the bundled model for real voices', function () {
  this.timeout(600_000);
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-real-')); });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('ships its licence notice, model card and an LM whose record matches it', () => {
    for (const f of ['model.json', 'encoder.onnx', 'MODEL_CARD.md', 'LICENSE.pocketsphinx-en-us', 'lm.arpa.gz', 'lm.json']) assert.ok(fs.existsSync(path.join(DIR, f)), `${f} missing`);
    const head = zlib.gunzipSync(fs.readFileSync(path.join(DIR, 'lm.arpa.gz'))).toString('latin1', 0, 4096);
    const { counts } = arpaHeader(head.split('\n'));
    assert.deepEqual(counts, [72547, 400000, 200000]);
    assert.match(fs.readFileSync(path.join(DIR, 'LICENSE.pocketsphinx-en-us'), 'utf8'), /Carnegie Mellon University[\s\S]*Redistributions in binary form/);
  });

  it('transcribes the espeak-ng en-us fixture with its LM: most words right, in order, with times', async () => {
    const rec = await loadRecognizer({ model: 'base-en-real', threads: 1 });
    try {
      assert.equal(rec.encoder.manifest.frontEnd.type === 'features' && rec.encoder.manifest.frontEnd.preset, 'sphinx-mfcc-13');
      const t = await rec.transcribe(audioFixture('speech-en-us-16k.wav'));
      const s = scoreUtterance('the quick brown fox jumps over the lazy dog', t.text);
      const wer = (s.words.substitutions + s.words.deletions + s.words.insertions) / s.words.ref;
      assert.ok(wer <= 0.6, `WER ${wer.toFixed(2)} (${JSON.stringify(t.text)})`);
      assert.ok(t.words.length >= 4);
      for (let i = 1; i < t.words.length; i++) assert.ok(t.words[i].start >= t.words[i - 1].end - 1e-9);
    } finally {
      await rec.release();
    }
  });

  it('streams to the same text as offline recognition', async () => {
    const rec = await loadRecognizer({ model: 'base-en-real', threads: 1 });
    try {
      const audio = loadAudio(audioFixture('speech-en-gb-f3-16k.wav'));
      const stream = rec.createStream({ windowSeconds: 2 });
      let partials = 0;
      for (let i = 0; i < audio.samples.length; i += 1600) if (await stream.acceptWaveform(audio.samples.subarray(i, i + 1600))) partials++;
      assert.ok(partials >= 10, `${partials} partial results`);
      const final = await stream.finish();
      assert.equal(final.text, (await rec.transcribe(audio)).text);
    } finally {
      await rec.release();
    }
  });

  it('takes an adapter and a 2-member ensemble from the same trainer; the guard gives its verdict; the recognizer uses them', async () => {
    const data = smallScottishData(tmp, 24);
    for (const ensemble of [1, 2]) {
      const out = path.join(tmp, `adapter-${ensemble}`);
      await trainAdapter({ accent: 'scots', data, model: 'base-en-real', out, epochs: 2, threads: 1, ensemble });
      const { meta, weights } = loadAdapter(out);
      assert.equal(meta.base.name, 'base-en-real');
      assert.equal(weights.length, ensemble);
      assert.equal(weights[0].dim, 256);
      assert.equal(typeof meta.dev.accepted, 'boolean');
      assert.match(meta.dev.verdict, /better|not judged/i);
      const rec = await loadRecognizer({ model: 'base-en-real', adapter: out, threads: 1 });
      try {
        const t = await rec.transcribe(path.join(data, fs.readdirSync(data).find((f) => f.endsWith('.wav'))!));
        assert.ok(t.words.length > 0, 'the adapted model transcribes');
      } finally {
        await rec.release();
      }
    }
  });
});
