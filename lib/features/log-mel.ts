/**
 * The log-mel extractor. One object per configuration owns the FFT, the window, the filterbank and
 * every per-frame buffer; compute() runs one loop over frames that allocates nothing but the output.
 *
 * Per frame t (all in float64):
 *   center=true  (Whisper, torch.stft): samples (t*hop - nFft/2) .. + nFft, reflected at the edges
 *   center=false (Kaldi snip_edges):     samples t*hop .. + winLength, zero-padded to nFft
 *   x *= inputScale; minus the frame mean (removeDcOffset); pre-emphasis; times the window;
 *   power spectrum |FFT|^2 (nFft/2 + 1 bins); mel filters; log(max(e, logFloor)).
 * Then, for normalize='whisper', over the whole output: x = max(x, max(x) - 8), x = (x + 4) / 4.
 */
import type { Features, Waveform } from '../types.js';
import { ConfigError } from '../errors.js';
import { createRealFft, type RealFft } from './fft.js';
import { melFilterBank, type MelFilterBank } from './mel-filters.js';
import type { FeatureConfig } from './presets.js';
import { hann, povey } from './window.js';

/**
 * Log-mel features for one FeatureConfig: owns its FFT, window, filterbank and frame buffers, built once
 * and reused across calls. compute(samples at 16 kHz) -> { data (numFrames, nMels) row-major, numFrames, dim, frameShift 0.01 s }.
 */
export class LogMelExtractor {
  readonly config: Readonly<FeatureConfig>;
  private readonly fft: RealFft;
  private readonly window: Float64Array;
  private readonly filters: MelFilterBank;
  private readonly frame: Float64Array; // (nFft,); [winLength, nFft) stays zero
  private readonly power: Float64Array; // (nFft/2 + 1,)

  constructor(config: Readonly<FeatureConfig>) {
    this.config = config;
    this.fft = createRealFft(config.nFft);
    this.window = config.window === 'hann' ? hann(config.winLength, true) : povey(config.winLength);
    this.filters = melFilterBank(config.melScale, config.sampleRate, config.nFft, config.nMels, config.fMin, config.fMax);
    this.frame = new Float64Array(config.nFft);
    this.power = new Float64Array(config.nFft / 2 + 1);
  }

  /** Number of frames produced for `numSamples` samples. */
  numFrames(numSamples: number): number {
    const { center, hopLength, winLength, dropLastFrame } = this.config;
    if (center) return Math.max(0, 1 + Math.floor(numSamples / hopLength) - (dropLastFrame ? 1 : 0));
    return numSamples < winLength ? 0 : 1 + Math.floor((numSamples - winLength) / hopLength);
  }

  /**
   * Compute features of `audio` (at config.sampleRate).
   * @param out optional output buffer of at least numFrames * nMels floats
   * @returns features (numFrames, nMels), row-major
   */
  compute(audio: Waveform, out?: Float32Array): Features {
    const cfg = this.config;
    if (audio.sampleRate !== cfg.sampleRate) {
      throw new ConfigError(`features: audio is at ${audio.sampleRate} Hz but preset ${cfg.name} needs ${cfg.sampleRate} Hz; resample first`);
    }
    const x = audio.samples;
    const numFrames = this.numFrames(x.length);
    const nMels = cfg.nMels;
    const data = out ? out.subarray(0, numFrames * nMels) : new Float32Array(numFrames * nMels);
    if (data.length < numFrames * nMels) throw new ConfigError(`features: output buffer holds ${data.length} floats, needs ${numFrames * nMels}`);
    for (let t = 0; t < numFrames; t++) this.frameFeatures(x, t, data, t * nMels);
    if (cfg.normalize === 'whisper') whisperNormalize(data);
    return { data, numFrames, dim: nMels, frameShift: cfg.hopLength / cfg.sampleRate, preset: cfg.name };
  }

  /** Features of frame t written to out[o .. o + nMels). */
  private frameFeatures(x: Float32Array, t: number, out: Float32Array, o: number): void {
    const { hopLength, winLength, nFft, inputScale, removeDcOffset, preemphasis, center, logFloor } = this.config;
    const frame = this.frame, win = this.window, n = x.length;
    const start = center ? t * hopLength - nFft / 2 : t * hopLength;
    const inside = start >= 0 && start + winLength <= n;
    if (!removeDcOffset && preemphasis === 0) {
      // Whisper path: scale and window in one pass.
      if (inside) for (let i = 0; i < winLength; i++) frame[i] = x[start + i] * inputScale * win[i];
      else for (let i = 0; i < winLength; i++) frame[i] = x[reflect(start + i, n)] * inputScale * win[i];
    } else {
      if (inside) for (let i = 0; i < winLength; i++) frame[i] = x[start + i] * inputScale;
      else for (let i = 0; i < winLength; i++) frame[i] = x[reflect(start + i, n)] * inputScale;
      if (removeDcOffset) {
        let mean = 0;
        for (let i = 0; i < winLength; i++) mean += frame[i];
        mean /= winLength;
        for (let i = 0; i < winLength; i++) frame[i] -= mean;
      }
      // Pre-emphasis x[i] - c x[i-1] (x[-1] = x[0]) fused with the window, last sample first.
      const c = preemphasis;
      for (let i = winLength - 1; i > 0; i--) frame[i] = (frame[i] - c * frame[i - 1]) * win[i];
      frame[0] = (frame[0] - c * frame[0]) * win[0];
    }
    this.fft.powerSpectrum(frame, this.power);
    const { start: fs, length: fl, offset: fo, weights, nMels } = this.filters;
    const power = this.power;
    const log10 = this.config.log === 'log10';
    for (let m = 0; m < nMels; m++) {
      let e = 0;
      const s = fs[m], w = fo[m] - s;
      for (let k = s, end = s + fl[m]; k < end; k++) e += weights[w + k] * power[k];
      if (e < logFloor) e = logFloor;
      out[o + m] = log10 ? Math.log10(e) : Math.log(e);
    }
  }
}

/** Reflect an index into [0, n) without repeating the edge sample (numpy/torch 'reflect'). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  i = ((i % period) + period) % period;
  return i < n ? i : period - i;
}

/** Whisper's dynamic-range clamp and scaling, in place. */
export function whisperNormalize(data: Float32Array): void {
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  const floor = max - 8;
  for (let i = 0; i < data.length; i++) data[i] = ((data[i] > floor ? data[i] : floor) + 4) / 4;
}
