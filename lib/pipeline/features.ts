/** The `features` job: WAV file -> log-mel -> .npy (+ PNG). */
import fs from 'node:fs';
import path from 'node:path';
import { loadAudio } from '../audio/index.js';
import { InputError } from '../errors.js';
import { getExtractor } from '../features/index.js';
import { writeNpy } from '../io/npy.js';
import { writeFileAtomic } from '../io/atomic.js';
import { spectrogramPng } from '../io/spectrogram-png.js';

export interface FeaturesJob {
  input: string;
  preset: string;
  out: string;
  png?: string;
}

export interface FeaturesResult {
  numFrames: number;
  dim: number;
  durationSec: number;
  /** Time spent computing features (excluding file reading and writing), in ms. */
  elapsedMs: number;
}

/** Compute features of one file and write them; nothing is written if any step fails. */
export function runFeatures(job: FeaturesJob): FeaturesResult {
  for (const out of [job.out, job.png]) {
    if (out !== undefined && !fs.existsSync(path.dirname(path.resolve(out)))) {
      throw new InputError(`output folder does not exist: ${path.dirname(path.resolve(out))}`, out);
    }
  }
  const extractor = getExtractor(job.preset);
  const audio = loadAudio(job.input, { sampleRate: extractor.config.sampleRate });
  const t0 = performance.now();
  const feats = extractor.compute(audio);
  const elapsedMs = performance.now() - t0;
  if (feats.numFrames === 0) {
    throw new InputError(`audio too short for one feature frame (${audio.samples.length} samples at ${audio.sampleRate} Hz)`, job.input);
  }
  // Encode everything before writing anything, so a failure leaves no partial output.
  let png: Uint8Array | undefined;
  if (job.png) {
    const range = extractor.config.normalize === 'whisper' ? 2 : extractor.config.log === 'log10' ? 8 : 8 * Math.LN10;
    png = spectrogramPng(feats, { dynamicRange: range });
  }
  writeNpy(job.out, feats.data, [feats.numFrames, feats.dim]);
  if (job.png && png) writeFileAtomic(job.png, png);
  return { numFrames: feats.numFrames, dim: feats.dim, durationSec: audio.samples.length / audio.sampleRate, elapsedMs };
}
