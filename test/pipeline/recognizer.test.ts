import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAudio } from '../../lib/audio/index.js';
import { evaluate } from '../../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { groupCaptions, toSrt, toVtt } from '../../lib/pipeline/captions.js';
import { audioFixture } from '../helpers/fixtures.js';
import { importTestModelWithHead } from '../helpers/models.js';

describe('pipeline: recognizer, evaluation, captions (tiny model with a random head)', function () {
  this.timeout(60000);
  let dir: string;
  let modelDir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-rec-'));
    modelDir = (await importTestModelWithHead(dir)).dir;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('transcribes a file and a waveform alike; words are in order with times inside the audio', async () => {
    const rec = await loadRecognizer({ model: modelDir, threads: 1 });
    try {
      const a = await rec.transcribe(audioFixture('speech-en-us-16k.wav'));
      const b = await rec.transcribe(loadAudio(audioFixture('speech-en-us-16k.wav')));
      assert.equal(a.text, b.text);
      assert.ok(Math.abs(a.duration - 3.205) < 0.01);
      assert.equal(a.text, a.words.map((w) => w.word).join(' '));
      for (let i = 0; i < a.words.length; i++) {
        const w = a.words[i];
        assert.ok(w.start < w.end && w.end <= a.duration + 0.05, JSON.stringify(w));
        assert.ok(w.confidence > 0 && w.confidence <= 1);
        if (i > 0) assert.ok(w.start >= a.words[i - 1].end - 1e-9);
      }
      // Greedy and a beam without LM agree closely; the beam never scores worse paths as best.
      const greedy = await rec.transcribe(audioFixture('speech-en-us-16k.wav'), { beam: 1 });
      assert.equal(typeof greedy.text, 'string');
    } finally {
      await rec.release();
    }
  });

  it('concurrent transcribe calls give the same results as sequential ones', async () => {
    const rec = await loadRecognizer({ model: modelDir, threads: 1 });
    try {
      const files = ['speech-en-us-16k.wav', 'speech-en-gb-f3-16k.wav', 'chirp-noise-16k.wav'].map(audioFixture);
      const seq = [];
      for (const f of files) seq.push((await rec.transcribe(f)).text);
      const par = await Promise.all(files.map((f) => rec.transcribe(f)));
      assert.deepEqual(par.map((t) => t.text), seq);
    } finally {
      await rec.release();
    }
  });

  it('two recognizers in one process, used at the same time, each give their own sequential results', async () => {
    const { initAdapter } = await import('../../lib/train/adapter-model.js');
    const plain = await loadRecognizer({ model: modelDir, threads: 1 });
    const head = plain.head;
    const w = initAdapter('adapter', head.dim, head.vocabSize, head.weight, head.bias, 8, 3, 5);
    w.upW = Float32Array.from(w.upW!, (_, i) => Math.sin(i) * 0.5); // a non-trivial adapter
    const adapted = await loadRecognizer({ model: modelDir, threads: 1, adapter: { weights: w } });
    try {
      const f = audioFixture('speech-en-gb-f3-16k.wav');
      const a0 = (await plain.transcribe(f)).text, b0 = (await adapted.transcribe(f)).text;
      const [a1, b1] = await Promise.all([plain.transcribe(f), adapted.transcribe(f)]);
      assert.equal(a1.text, a0);
      assert.equal(b1.text, b0);
    } finally {
      await plain.release();
      await adapted.release();
    }
  });

  it('evaluate counts errors against normalised references, per speaker, and skips unreadable files', async () => {
    const rec = await loadRecognizer({ model: modelDir, threads: 1 });
    try {
      const utts = [
        { id: 'a', audio: audioFixture('speech-en-us-16k.wav'), text: 'The quick brown fox jumps over the lazy dog.', speaker: 's1' },
        { id: 'b', audio: audioFixture('speech-en-gb-f3-16k.wav'), text: 'Please call Stella.', speaker: 's2' },
        { id: 'c', audio: '/nonexistent.wav', text: 'x' },
      ];
      const r = await evaluate(rec, utts, { keepItems: true });
      assert.equal(r.utterances, 2);
      assert.equal(r.words, 12);
      assert.equal(r.failed.length, 1);
      assert.ok(r.wer >= 0 && r.cer >= 0);
      assert.equal(r.wer, (r.substitutions + r.deletions + r.insertions) / r.words);
      assert.deepEqual(Object.keys(r.perSpeaker!), ['s1', 's2']);
      assert.equal(r.items!.length, 2);
    } finally {
      await rec.release();
    }
  });

  it('captions: lines of at most 42 characters, split at pauses; SRT and VTT time stamps', () => {
    const words = [
      { word: 'hello', start: 0, end: 0.4, confidence: 1 }, { word: 'there', start: 0.5, end: 0.9, confidence: 1 },
      { word: 'after', start: 2.0, end: 2.3, confidence: 1 }, { word: 'a', start: 2.35, end: 2.4, confidence: 1 },
      { word: 'pause', start: 2.5, end: 3661.25, confidence: 1 },
    ];
    const cues = groupCaptions(words);
    assert.deepEqual(cues.map((c) => c.text), ['hello there', 'after a', 'pause']);
    const t = { text: '', words, duration: 4000 };
    assert.match(toSrt(t), /^1\n00:00:00,000 --> 00:00:00,900\nhello there\n\n2\n00:00:02,000 --> 00:00:02,400\nafter a\n/);
    assert.match(toVtt(t), /^WEBVTT\n\n00:00:00\.000 --> 00:00:00\.900\nhello there\n[\s\S]*00:00:02\.500 --> 01:01:01\.250\npause\n$/);
    const long = Array.from({ length: 20 }, (_, i) => ({ word: 'word', start: i * 0.3, end: i * 0.3 + 0.25, confidence: 1 }));
    for (const c of groupCaptions(long)) assert.ok(c.text.length <= 42);
  });
});
