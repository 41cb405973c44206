/**
 * Feature normalisation applied before an encoder, in place on (numFrames, dim) row-major data.
 * The pretraining recipe uses the same definitions, so train and run time agree.
 */

/** Floor added to the variance so silent bands do not divide by zero. */
export const VARIANCE_FLOOR = 1e-5;

/** Per-utterance mean-variance normalisation: each band to mean 0 and variance ~1. */
export function normalizeUtterance(data: Float32Array, numFrames: number, dim: number): void {
  if (numFrames === 0) return;
  const mean = new Float64Array(dim), sq = new Float64Array(dim);
  for (let t = 0; t < numFrames; t++) {
    for (let b = 0; b < dim; b++) {
      const v = data[t * dim + b];
      mean[b] += v;
      sq[b] += v * v;
    }
  }
  const scale = new Float64Array(dim);
  for (let b = 0; b < dim; b++) {
    mean[b] /= numFrames;
    const variance = Math.max(0, sq[b] / numFrames - mean[b] * mean[b]);
    scale[b] = 1 / Math.sqrt(variance + VARIANCE_FLOOR);
  }
  for (let t = 0; t < numFrames; t++) for (let b = 0; b < dim; b++) data[t * dim + b] = (data[t * dim + b] - mean[b]) * scale[b];
}

/** Per-utterance mean subtraction (sphinxbase's batch CMN): each band to mean 0, variance kept. */
export function subtractMean(data: Float32Array, numFrames: number, dim: number): void {
  if (numFrames === 0) return;
  const mean = new Float64Array(dim);
  for (let t = 0; t < numFrames; t++) for (let b = 0; b < dim; b++) mean[b] += data[t * dim + b];
  for (let b = 0; b < dim; b++) mean[b] /= numFrames;
  for (let t = 0; t < numFrames; t++) for (let b = 0; b < dim; b++) data[t * dim + b] -= mean[b];
}

/** Normalisation with stored statistics: (x - mean[b]) / std[b]. */
export function normalizeGlobal(data: Float32Array, numFrames: number, dim: number, mean: ArrayLike<number>, std: ArrayLike<number>): void {
  for (let t = 0; t < numFrames; t++) for (let b = 0; b < dim; b++) data[t * dim + b] = (data[t * dim + b] - mean[b]) / std[b];
}

/** Waveform normalisation as wav2vec2's feature extractor does it: (x - mean) / sqrt(var + 1e-7). */
export function normalizeWaveform(samples: Float32Array): Float32Array {
  let mean = 0;
  for (let i = 0; i < samples.length; i++) mean += samples[i];
  mean /= samples.length;
  let variance = 0;
  for (let i = 0; i < samples.length; i++) variance += (samples[i] - mean) ** 2;
  variance /= samples.length;
  const scale = 1 / Math.sqrt(variance + 1e-7);
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = (samples[i] - mean) * scale;
  return out;
}
