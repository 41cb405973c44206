/**
 * Audio input: WAV files or in-memory waveforms in, mono Float32 at the model rate out.
 */
import fs from 'node:fs';
import { ConfigError, InputError } from '../errors.js';
import type { Waveform } from '../types.js';
import { SAMPLE_RATE } from './constants.js';
import { Resampler, resample } from './resample.js';
import { checkFinite, forEachBlock, openForReading, readWavInfo, type ReadWavOptions } from './wav.js';

export { SAMPLE_RATE } from './constants.js';
export { Resampler, resample, type ResampleConfig } from './resample.js';
export { decodeWav, parseWavHeader, type WavInfo, type ReadWavOptions } from './wav.js';

/** Limits applied when loadAudio is not given its own (the CLI's --max-audio-seconds and --max-file-mb set them). */
const limits = { maxBytes: 2 ** 32, maxDurationSec: 4 * 3600 };

/** Change the default limits on input size: bytes per file and seconds of audio. */
export function setAudioLimits(l: { maxBytes?: number; maxDurationSec?: number }): void {
  if (l.maxBytes !== undefined) limits.maxBytes = l.maxBytes;
  if (l.maxDurationSec !== undefined) limits.maxDurationSec = l.maxDurationSec;
}

/** Options for loadAudio. */
export interface LoadAudioOptions extends ReadWavOptions {
  /** Rate to resample to, in Hz (default 16000, the model rate). */
  sampleRate?: number;
}

/**
 * Read a WAV file as mono audio at `sampleRate` (default 16 kHz). Decoding, downmixing and
 * resampling run block by block, so memory holds the output and one block, never the whole file
 * at its original rate.
 */
export function loadAudio(path: string, options: LoadAudioOptions = {}): Waveform {
  const outRate = options.sampleRate ?? SAMPLE_RATE;
  const maxBytes = options.maxBytes ?? limits.maxBytes;
  const maxDurationSec = options.maxDurationSec ?? limits.maxDurationSec;
  const fd = openForReading(path);
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) throw new InputError('empty file (0 bytes)', path);
    if (size > maxBytes) throw new InputError(`file is ${size} bytes, over the limit of ${maxBytes} bytes`, path);
    const info = readWavInfo(path, fd, size);
    const durationSec = info.numFrames / info.sampleRate;
    if (durationSec > maxDurationSec) {
      throw new InputError(`audio is ${durationSec.toFixed(0)} s long, over the limit of ${maxDurationSec} s`, path);
    }
    const visitFinite = (block: Float32Array, offset: number): void => {
      if (info.encoding === 'float') checkFinite(block, path, offset);
    };
    if (info.sampleRate === outRate) {
      const samples = new Float32Array(info.numFrames);
      forEachBlock(fd, info, (block, offset) => {
        visitFinite(block, offset);
        samples.set(block, offset);
      });
      return { samples, sampleRate: outRate };
    }
    const resampler = new Resampler(info.sampleRate, outRate);
    const samples = new Float32Array(resampler.outputLength(info.numFrames));
    let written = 0;
    forEachBlock(fd, info, (block, offset) => {
      visitFinite(block, offset);
      const out = resampler.push(block);
      samples.set(out, written);
      written += out.length;
    });
    samples.set(resampler.flush(), written);
    return { samples, sampleRate: outRate };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Check a waveform passed to the library and bring it to `sampleRate` (default 16 kHz).
 * Throws a ConfigError naming what was received when it is not a mono Float32Array waveform.
 */
export function toModelRate(audio: Waveform, sampleRate: number = SAMPLE_RATE): Waveform {
  validateWaveform(audio);
  if (audio.sampleRate === sampleRate) return audio;
  return { samples: resample(audio.samples, audio.sampleRate, sampleRate), sampleRate };
}

/** Throw unless `audio` is `{ samples: Float32Array, sampleRate: positive integer }` with samples. */
export function validateWaveform(audio: unknown): asserts audio is Waveform {
  const a = audio as Waveform | null | undefined;
  if (!a || typeof a !== 'object' || !(a.samples instanceof Float32Array)) {
    const got = (a as { samples?: unknown } | null | undefined)?.samples;
    const name = got === undefined ? (a === null ? 'null' : typeof a) : (got as object)?.constructor?.name ?? typeof got;
    throw new ConfigError(`audio must be { samples: Float32Array, sampleRate: number } (mono, in [-1, 1]), but got ${name}`);
  }
  if (!Number.isInteger(a.sampleRate) || a.sampleRate <= 0) {
    throw new ConfigError(`audio.sampleRate must be a positive integer in Hz, but got ${String(a.sampleRate)}`);
  }
  if (a.samples.length === 0) throw new ConfigError('audio has no samples');
}
