/**
 * Fuzzing the readers users point at their own files. Seeded, so a failure reproduces: the seed and
 * the case number are in the message; a case that ever failed is kept in test/fixtures/fuzz-regressions/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeWav } from '../../lib/audio/index.js';
import { readDataset } from '../../lib/data/manifest.js';
import { AdaptAsrError } from '../../lib/errors.js';
import { ROOT, wavFixture } from '../helpers/fixtures.js';
import { mutate } from '../helpers/mutate.js';
import { rng } from '../helpers/signals.js';

const SEED = 20261129;

describe('reliability: fuzzing the readers', function () {
  this.timeout(300000);

  it('2,000 mutated WAV files: each decodes to finite samples or fails with our own one-line error, within 2 s', () => {
    const seeds = ['tone-16k-pcm16.wav', 'tone-16k-pcm24.wav', 'tone-16k-float32.wav', 'tone-16k-alaw.wav', 'tone-stereo-16k-pcm16.wav', 'sine1k-stereo-44k1-pcm24.wav', 'streamed-size-unknown.wav']
      .map((f) => fs.readFileSync(wavFixture(f)));
    const regressions = path.join(ROOT, 'test', 'fixtures', 'fuzz-regressions');
    const kept = fs.existsSync(regressions) ? fs.readdirSync(regressions).map((f) => fs.readFileSync(path.join(regressions, f))) : [];
    const r = rng(SEED);
    const rss0 = process.memoryUsage().rss;
    let decoded = 0, refused = 0;
    const cases = [...kept, ...Array.from({ length: 2000 }, () => mutate(seeds[Math.floor(r() * seeds.length)], r))];
    cases.forEach((bytes, i) => {
      const t0 = performance.now();
      try {
        const a = decodeWav(bytes, `case-${i}`);
        for (const x of a.samples) if (!Number.isFinite(x)) assert.fail(`case ${i} (seed ${SEED}): non-finite sample decoded`);
        assert.ok(a.samples.length > 0 && a.sampleRate > 0);
        decoded++;
      } catch (err) {
        if (!(err instanceof AdaptAsrError)) assert.fail(`case ${i} (seed ${SEED}): ${(err as Error).constructor.name}: ${(err as Error).message}`);
        assert.ok(!err.message.includes('\n') && err.message.startsWith(`case-${i}: `), err.message);
        refused++;
      }
      assert.ok(performance.now() - t0 < 2000, `case ${i} took ${performance.now() - t0} ms`);
    });
    assert.equal(decoded + refused, cases.length);
    assert.ok(decoded > 100 && refused > 100, `decoded ${decoded}, refused ${refused}: the mutations should produce both`);
    assert.ok(process.memoryUsage().rss - rss0 < 500 * 2 ** 20, 'memory grew by more than 500 MB');
  });

  it('500 mutated transcripts.tsv and manifest.jsonl files: read, or refused with our own error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-fuzz-'));
    try {
      const tsv = Buffer.from('a.wav\tHello world\tspk1\nb.wav\tSecond line\n# comment\n\nc.wav\tthird\n');
      const jsonl = Buffer.from('{"audio_filepath": "a.wav", "text": "hello", "duration": 1.5, "speaker": "s1"}\n{"audio_filepath": "b.wav", "text": "x"}\n');
      const r = rng(SEED + 1);
      for (let i = 0; i < 500; i++) {
        const isTsv = i % 2 === 0;
        const bytes = mutate(isTsv ? tsv : jsonl, r);
        const file = isTsv ? path.join(dir, `d${i}`, 'transcripts.tsv') : path.join(dir, `m${i}.jsonl`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, bytes);
        try {
          const ds = readDataset(isTsv ? path.dirname(file) : file);
          for (const u of ds.utterances) assert.equal(typeof u.text, 'string');
        } catch (err) {
          if (!(err instanceof AdaptAsrError)) assert.fail(`case ${i} (seed ${SEED + 1}): ${(err as Error).constructor.name}: ${(err as Error).message}`);
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
