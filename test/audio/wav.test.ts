import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeWav, loadAudio } from '../../lib/audio/index.js';
import { InputError } from '../../lib/errors.js';
import { maxAbsDiff } from '../helpers/assert-close.js';
import { wavFixture } from '../helpers/fixtures.js';
import { toneAmplitude } from '../helpers/signals.js';
import { pcm16, wavBytes } from '../helpers/wav-bytes.js';

// The signal make-fixtures.py wrote as float32 and sox re-encoded: 0.5 s at 16 kHz.
const TONE = (() => {
  const x = new Float32Array(8000);
  for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000) + 0.25 * Math.sin((2 * Math.PI * 3000 * i) / 16000);
  return x;
})();

describe('audio/wav: decoding', () => {
  // Tolerances: quantisation step plus sox's +-1 LSB dither when it reduces the bit depth.
  const cases: [string, number][] = [
    ['tone-16k-float32.wav', 1e-7], ['tone-16k-float64.wav', 1e-7], ['tone-16k-pcm32.wav', 1e-6],
    ['tone-16k-pcm24.wav', 1e-6], ['tone-16k-pcm16.wav', 2.5 / 32768], ['tone-16k-pcm8.wav', 2.5 / 128],
    ['tone-16k-alaw.wav', 0.03], ['tone-16k-mulaw.wav', 0.03],
  ];
  for (const [name, tol] of cases) {
    it(`${name} decodes to the known signal within ${tol.toExponential(1)}`, () => {
      const a = loadAudio(wavFixture(name));
      assert.equal(a.sampleRate, 16000);
      assert.equal(a.samples.length, 8000);
      assert.ok(maxAbsDiff(a.samples, TONE) <= tol, `max diff ${maxAbsDiff(a.samples, TONE)}`);
    });
  }

  it('G.711 decoding keeps a signal-to-noise ratio above 30 dB', () => {
    for (const name of ['tone-16k-alaw.wav', 'tone-16k-mulaw.wav']) {
      const a = loadAudio(wavFixture(name));
      let e = 0, s = 0;
      for (let i = 0; i < TONE.length; i++) { e += (a.samples[i] - TONE[i]) ** 2; s += TONE[i] ** 2; }
      assert.ok(10 * Math.log10(s / e) > 30, `${name}: SNR ${10 * Math.log10(s / e)} dB`);
    }
  });

  it('downmixes channels by averaging', () => {
    const left = Float32Array.from([0.5, 0.25, -0.5, 0]);
    const right = Float32Array.from([-0.25, 0.25, 0.5, 0.5]);
    const a = decodeWav(wavBytes({ channels: 2, rate: 16000, bits: 16, data: pcm16([left, right]) }));
    assert.deepEqual(Array.from(a.samples), [0.125, 0.25, 0, 0.25]);
    const stereo = loadAudio(wavFixture('tone-stereo-16k-pcm16.wav'));
    // sox wrote both channels from the same float signal (each dithered on its own).
    assert.ok(maxAbsDiff(stereo.samples, TONE) <= 2.5 / 32768);
  });

  it('reads 44.1 kHz stereo 24-bit (WAVE_FORMAT_EXTENSIBLE) and resamples to 16 kHz', () => {
    const a = loadAudio(wavFixture('sine1k-stereo-44k1-pcm24.wav'));
    assert.equal(a.sampleRate, 16000);
    assert.equal(a.samples.length, Math.ceil((11025 * 160) / 441)); // 0.25 s
    const amp = toneAmplitude(a.samples, 16000, 1000, 500, 3500);
    assert.ok(Math.abs(20 * Math.log10(amp / 0.5)) < 0.1, `amplitude ${amp}`);
  });

  it('keeps the file rate when asked for it', () => {
    const a = loadAudio(wavFixture('sine10k-48k-pcm16.wav'), { sampleRate: 48000 });
    assert.equal(a.sampleRate, 48000);
    assert.equal(a.samples.length, 48000);
  });

  it('accepts a data size left unset by a streaming writer (0xFFFFFFFF): data runs to the end', () => {
    const a = loadAudio(wavFixture('streamed-size-unknown.wav'));
    assert.equal(a.samples.length, 1600);
    assert.ok(Math.abs(toneAmplitude(a.samples, 16000, 440) - 0.3) < 1e-3);
  });

  it('decodeWav on bytes in memory equals loadAudio on the file', () => {
    const bytes = fs.readFileSync(wavFixture('tone-16k-pcm24.wav'));
    assert.equal(maxAbsDiff(decodeWav(bytes).samples, loadAudio(wavFixture('tone-16k-pcm24.wav')).samples), 0);
  });

  it('streams long files block by block with the same result as decoding in one piece', () => {
    // 200,000 frames > one 65,536-frame block, 3 channels.
    const n = 200000;
    const chans = [0, 1, 2].map((c) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * 0.001 * (c + 1))));
    const file = path.join(os.tmpdir(), `adapt-asr-long-${process.pid}.wav`);
    const bytes = wavBytes({ channels: 3, rate: 16000, bits: 16, data: pcm16(chans) });
    fs.writeFileSync(file, bytes);
    try {
      assert.equal(maxAbsDiff(loadAudio(file).samples, decodeWav(bytes).samples), 0);
    } finally {
      fs.rmSync(file);
    }
  });
});

describe('audio/wav: bad input gets one clear line naming the file', () => {
  const cases: [string, RegExp][] = [
    ['not-a-wav.wav', /not a WAV file/],
    ['text-file.wav', /not a WAV file/],
    ['empty.wav', /empty file/],
    ['truncated-header.wav', /truncated|corrupt/],
    ['truncated-data.wav', /truncated WAV file: header declares 3200 bytes of audio but the file holds 1000/],
    ['huge-declared-size.wav', /truncated WAV file: header declares 2147483632 bytes/],
    ['zero-samples.wav', /no audio samples/],
    ['zero-channels.wav', /invalid channel count 0/],
    ['rate-zero.wav', /unsupported sample rate 0 Hz/],
    ['rate-absurd.wav', /unsupported sample rate 4000000000 Hz/],
    ['adpcm.wav', /unsupported codec: IMA ADPCM/],
    ['mp3-in-wav.wav', /unsupported codec: MP3/],
    ['pcm12.wav', /unsupported PCM bit depth 12/],
    ['no-fmt-chunk.wav', /no "fmt " chunk/],
    ['float-nan.wav', /non-finite sample/],
  ];
  for (const [name, pattern] of cases) {
    it(`${name}: ${pattern.source}`, () => {
      const file = wavFixture(name);
      const t0 = Date.now();
      assert.throws(() => loadAudio(file), (err: unknown) => {
        assert.ok(err instanceof InputError, `not an InputError: ${String(err)}`);
        assert.match(err.message, pattern);
        assert.ok(err.message.startsWith(file + ': '), `message does not start with the file name: ${err.message}`);
        assert.ok(!err.message.includes('\n'), 'message has more than one line');
        return true;
      });
      assert.ok(Date.now() - t0 < 2000);
    });
  }

  it('a missing file and a directory', () => {
    assert.throws(() => loadAudio('/nonexistent/x.wav'), /\/nonexistent\/x\.wav: file not found/);
    assert.throws(() => loadAudio(os.tmpdir()), /is a directory/);
  });

  it('limits on file size and duration', () => {
    assert.throws(() => loadAudio(wavFixture('tone-16k-pcm16.wav'), { maxBytes: 1000 }), /over the limit of 1000 bytes/);
    assert.throws(() => loadAudio(wavFixture('tone-16k-pcm16.wav'), { maxDurationSec: 0.25 }), /0\.5|over the limit of 0\.25 s/);
  });
});
