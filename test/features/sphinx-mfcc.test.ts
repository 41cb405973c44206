import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAudio } from '../../lib/audio/index.js';
import { computeFeatures, denseMelFilters, getExtractor } from '../../lib/features/index.js';
import { subtractMean } from '../../lib/features/normalize.js';
import { readNpy } from '../../lib/io/npy.js';
import { maxAbsDiff } from '../helpers/assert-close.js';
import { audioFixture, ROOT } from '../helpers/fixtures.js';

const CLIPS = ['speech-en-us-16k', 'speech-en-gb-f3-16k', 'chirp-noise-16k', 'clicks-silence-16k'];
const SPHINX_FE_ARGS = ['-mswav', 'yes', '-nfilt', '25', '-lowerf', '130', '-upperf', '6800', '-transform', 'dct', '-lifter', '22',
  '-remove_noise', 'no', '-remove_silence', 'no', '-dither', 'no'];
const hasSphinxFe = spawnSync('sphinx_fe', ['-h'], { stdio: 'ignore' }).error === undefined;

function readMfc(file: string): Float32Array {
  const b = fs.readFileSync(file);
  const n = b.readInt32LE(0);
  return new Float32Array(b.buffer.slice(b.byteOffset + 4, b.byteOffset + 4 + 4 * n));
}

describe('features: sphinx-mfcc-13 and -nr reproduce sphinxbase (PocketSphinx en-us front end, without and with noise removal)', () => {
  for (const clip of CLIPS) {
    for (const preset of ['sphinx-mfcc-13', 'sphinx-mfcc-13-nr'] as const) {
      it(`${clip}, ${preset}: frames equal and max |diff| to sphinx_fe <= 1e-3 (golden arrays from test/fixtures/make-sphinx-golden.sh)`, () => {
        const f = computeFeatures(loadAudio(audioFixture(`${clip}.wav`)), preset);
        const g = readNpy(path.join(ROOT, 'test', 'fixtures', 'golden', `${clip}.${preset}.npy`));
        assert.deepEqual([f.numFrames, f.dim], g.shape);
        const d = maxAbsDiff(f.data, g.data);
        assert.ok(d <= 1e-3, `max diff ${d}`);
        assert.ok(d <= 1e-4, `max diff ${d}: parity regressed (measured 2.3e-5 / 4e-5 when written)`);
      });
    }
  }

  it('noise removal changes the features (the two presets differ by more than the parity bound)', () => {
    const audio = loadAudio(audioFixture('chirp-noise-16k.wav'));
    assert.ok(maxAbsDiff(computeFeatures(audio, 'sphinx-mfcc-13').data, computeFeatures(audio, 'sphinx-mfcc-13-nr').data) > 1);
  });

  it('live: sphinx_fe on a clip written here agrees to 1e-3 (skipped, with the reason, without sphinxbase-utils)', function () {
    if (!hasSphinxFe) {
      console.log('      skipped: sphinx_fe not installed (apt-get install sphinxbase-utils)');
      this.skip();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-sphinx-'));
    try {
      // 1.3 s: a falling tone, noise bursts and a DC step, so every band and the last partial frame carry energy.
      const n = 20_813, samples = new Int16Array(n);
      let seed = 7;
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const noise = ((seed / 0x7fffffff) - 0.5) * (i % 4000 < 1500 ? 6000 : 300);
        samples[i] = Math.round(8000 * Math.sin(2 * Math.PI * (3000 - i * 0.1) * i / 16000) + noise + (i > 12000 ? 500 : 0));
      }
      const wav = Buffer.alloc(44 + 2 * n);
      wav.write('RIFF', 0); wav.writeUInt32LE(36 + 2 * n, 4); wav.write('WAVEfmt ', 8); wav.writeUInt32LE(16, 16);
      wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22); wav.writeUInt32LE(16000, 24); wav.writeUInt32LE(32000, 28);
      wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34); wav.write('data', 36); wav.writeUInt32LE(2 * n, 40);
      Buffer.from(samples.buffer).copy(wav, 44);
      const file = path.join(dir, 'probe.wav');
      fs.writeFileSync(file, wav);
      for (const [preset, noise] of [['sphinx-mfcc-13', 'no'], ['sphinx-mfcc-13-nr', 'yes']] as const) {
        const args = SPHINX_FE_ARGS.map((a, i) => (SPHINX_FE_ARGS[i - 1] === '-remove_noise' ? noise : a));
        const r = spawnSync('sphinx_fe', ['-i', file, '-o', path.join(dir, 'probe.mfc'), ...args], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const ref = readMfc(path.join(dir, 'probe.mfc'));
        const f = computeFeatures(loadAudio(file), preset);
        assert.equal(f.numFrames, ref.length / 13);
        assert.ok(maxAbsDiff(f.data, ref) <= 1e-3, `${preset}: max diff ${maxAbsDiff(f.data, ref)}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('frame count: full frames of 410 samples every 160, plus one for the samples left over', () => {
    const ex = getExtractor('sphinx-mfcc-13');
    assert.equal(ex.dim, 13);
    for (const [n, want] of [[0, 0], [100, 1], [409, 1], [410, 2], [569, 2], [570, 3], [16000, 99]]) assert.equal(ex.numFrames(n), want, `n=${n}`);
  });

  it('filters: 25 triangles with corners on FFT bins, unit area, nothing at or above 6800 Hz', () => {
    const w = denseMelFilters('sphinx', 16000, 512, 25, 130, 6800);
    for (let m = 0; m < 25; m++) {
      let area = 0;
      for (let k = 0; k < 257; k++) area += w[m * 257 + k] * (16000 / 512);
      assert.ok(Math.abs(area - 1) < 0.15, `filter ${m} area ${area}`);
    }
    for (let k = Math.ceil(6800 / 31.25) + 1; k < 257; k++) for (let m = 0; m < 25; m++) assert.equal(w[m * 257 + k], 0);
  });

  it('subtractMean (batch CMN) gives each band mean 0 and keeps its spread', () => {
    const d = Float32Array.from([1, 10, 3, 20, 5, 60]);
    subtractMean(d, 3, 2);
    assert.deepEqual(Array.from(d), [-2, -20, 0, -10, 2, 30]);
  });
});
