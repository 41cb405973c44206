import assert from 'node:assert/strict';
import { loadAudio, resample, Resampler } from '../../lib/audio/index.js';
import { maxAbsDiff } from '../helpers/assert-close.js';
import { wavFixture } from '../helpers/fixtures.js';
import { rms, rng, sine, toneAmplitude } from '../helpers/signals.js';

const dB = (x: number): number => 20 * Math.log10(x);

describe('audio/resample', () => {
  it('1 kHz at 44.1 kHz -> 16 kHz keeps frequency and amplitude within 0.1 dB', () => {
    const x = sine(1000, 44100, 1, 0.5);
    const y = resample(x, 44100, 16000);
    assert.equal(y.length, 16000);
    // Amplitude at exactly 1 kHz over the steady middle, and nothing left at other frequencies.
    const amp = toneAmplitude(y, 16000, 1000, 1000, 15000);
    assert.ok(Math.abs(dB(amp / 0.5)) < 0.1, `amplitude ${amp} (${dB(amp / 0.5)} dB)`);
    const ideal = sine(1000, 16000, 1, amp);
    // Phase: a resampled sine lines up with the ideal 16 kHz sine (no delay).
    const resid = new Float32Array(14000);
    for (let i = 0; i < resid.length; i++) resid[i] = y[1000 + i] - ideal[1000 + i];
    assert.ok(dB(rms(resid) / rms(ideal, 1000, 15000)) < -60, `residual ${dB(rms(resid) / rms(ideal, 1000, 15000))} dB`);
  });

  it('a 10 kHz tone at 48 kHz is removed (>= 40 dB down), not folded to 6 kHz', () => {
    const x = loadAudio(wavFixture('sine10k-48k-pcm16.wav'), { sampleRate: 48000 }).samples;
    const y = resample(x, 48000, 16000);
    const inLevel = rms(x, 4800, 43200);
    const outLevel = rms(y, 1600, 14400);
    const alias = toneAmplitude(y, 16000, 6000, 1600, 14400) / Math.SQRT2;
    assert.ok(dB(outLevel / inLevel) < -40, `output level ${dB(outLevel / inLevel)} dB`);
    assert.ok(dB(alias / inLevel) < -40, `6 kHz alias ${dB(alias / inLevel)} dB`);
  });

  it('loadAudio resamples a 48 kHz file with the same filter', () => {
    const y = loadAudio(wavFixture('sine10k-48k-pcm16.wav')).samples;
    assert.equal(y.length, 16000);
    assert.ok(dB(rms(y, 1600, 14400) / 0.3536) < -40);
  });

  it('8 kHz -> 16 kHz keeps a 1 kHz tone and creates no image at 7 kHz', () => {
    const y = resample(sine(1000, 8000, 1, 0.5), 8000, 16000);
    assert.equal(y.length, 16000);
    assert.ok(Math.abs(dB(toneAmplitude(y, 16000, 1000, 1000, 15000) / 0.5)) < 0.1);
    assert.ok(dB(toneAmplitude(y, 16000, 7000, 1000, 15000) / 0.5) < -60);
  });

  it('streaming in random block sizes gives exactly the one-shot result', () => {
    const r = rng(7);
    const x = Float32Array.from({ length: 30000 }, () => r() - 0.5);
    for (const [a, b] of [[44100, 16000], [22050, 16000], [8000, 16000], [48000, 16000], [11025, 16000]]) {
      const whole = resample(x, a, b);
      const rs = new Resampler(a, b);
      const parts: Float32Array[] = [];
      for (let i = 0; i < x.length;) {
        const n = Math.min(x.length - i, 1 + Math.floor(r() * 5000));
        parts.push(rs.push(x.subarray(i, i + n)));
        i += n;
      }
      parts.push(rs.flush());
      const joined = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) { joined.set(p, o); o += p.length; }
      assert.equal(joined.length, Math.ceil((x.length * b) / a), `${a}->${b} length`);
      assert.equal(maxAbsDiff(joined, whole), 0, `${a}->${b}`);
    }
  });

  it('equal rates return the input unchanged; bad rates are refused', () => {
    const x = sine(100, 16000, 0.1);
    assert.equal(resample(x, 16000, 16000), x);
    assert.throws(() => new Resampler(0, 16000), /positive integers/);
    assert.throws(() => new Resampler(44100.5, 16000), /positive integers/);
  });
});
