import assert from 'node:assert/strict';
import * as api from 'adapt-asr';
import { audioFixture } from '../helpers/fixtures.js';

describe('public API (import from "adapt-asr")', () => {
  it('exposes loadAudio and computeFeatures that work together', () => {
    const audio = api.loadAudio(audioFixture('speech-en-us-16k.wav'));
    assert.equal(audio.sampleRate, api.SAMPLE_RATE);
    const f = api.computeFeatures(audio, 'whisper-80');
    assert.equal(f.dim, 80);
    assert.equal(f.numFrames, Math.floor(audio.samples.length / 160));
  });

  it('initTraining picks a TensorFlow.js backend and names it', async () => {
    const rt = await api.initTraining();
    assert.ok(['tensorflow', 'wasm', 'cpu'].includes(rt.backend));
    const y = rt.tf.tidy(() => rt.tf.add(rt.tf.tensor1d([1, 2]), 1).arraySync());
    assert.deepEqual(y, [2, 3]);
  });
});
