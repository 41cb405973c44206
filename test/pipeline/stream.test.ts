import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAudio, resample } from '../../lib/audio/index.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { audioFixture } from '../helpers/fixtures.js';
import { importTestModelWithHead } from '../helpers/models.js';

describe('pipeline: streaming', function () {
  this.timeout(60000);
  it('gives partial results as audio arrives, and a final result equal to offline recognition', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-stream-'));
    const rec = await loadRecognizer({ model: (await importTestModelWithHead(dir)).dir, threads: 1 });
    try {
      const audio = loadAudio(audioFixture('speech-en-gb-f3-16k.wav'));
      // Chunks at 44.1 kHz, 100 ms each: the stream resamples; a short window forces commits.
      const x44 = resample(audio.samples, 16000, 44100);
      const stream = rec.createStream({ sampleRate: 44100, windowSeconds: 1.5 });
      const partials = [];
      for (let i = 0; i < x44.length; i += 4410) {
        const p = await stream.acceptWaveform(x44.subarray(i, i + 4410));
        if (p) partials.push(p);
      }
      assert.ok(partials.length >= 15, `${partials.length} partial results for 4.3 s`);
      for (let i = 1; i < partials.length; i++) assert.ok(partials[i].audioSeconds > partials[i - 1].audioSeconds);
      const final = await stream.finish();
      const offline = await rec.transcribe({ samples: resample(x44, 44100, 16000), sampleRate: 16000 });
      assert.equal(final.text, offline.text);
      assert.throws(() => stream.acceptWaveform(new Float32Array(10)), /after finish/);
      // Freezing committed text at pauses (bounded work per update) changes nothing but where a word may be cut.
      const frozen = rec.createStream({ sampleRate: 44100, windowSeconds: 1.5, freezeSeconds: 0.5 });
      let last = null;
      for (let i = 0; i < x44.length; i += 4410) last = (await frozen.acceptWaveform(x44.subarray(i, i + 4410))) ?? last;
      assert.equal(last!.text.replace(/ /g, ''), partials[partials.length - 1].text.replace(/ /g, ''));
      assert.ok((frozen as unknown as { frozenFrames: number }).frozenFrames > 50, 'text was frozen');
    } finally {
      await rec.release();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
