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
 *
 * sphinxFraming (sphinx_fe): frame t is samples t*hop .. + winLength, pre-emphasised with the real
 * previous sample (0 before the first), and the samples after the last full frame make one more frame,
 * zero-padded; log(e + logFloor); with `cepstra`, the orthonormal DCT-II of the log energies and the
 * sinusoidal lifter.
 */
import type { Features, Waveform } from '../types.js';
import { ConfigError } from '../errors.js';
import { createRealFft, type RealFft } from './fft.js';
import { melFilterBank, type MelFilterBank } from './mel-filters.js';
import type { FeatureConfig } from './presets.js';
import { NoiseSuppressor } from './noise.js';
import { featureDim } from './presets.js';
import { hamming, hann, povey } from './window.js';

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
  /** Values per frame: the cepstra, or the mel bands. */
  readonly dim: number;
  private readonly logMel: Float64Array; // (nMels,), used when cepstra are computed
  private readonly dct?: Float64Array; // (cepstra, nMels) orthonormal DCT-II rows, lifter folded in
  private readonly noise?: NoiseSuppressor; // noiseRemoval: per utterance, on the mel energies
  private readonly mel: Float64Array; // (nMels,) one frame's mel energies

  constructor(config: Readonly<FeatureConfig>) {
    this.config = config;
    this.fft = createRealFft(config.nFft);
    this.window = config.window === 'hann' ? hann(config.winLength, true) : config.window === 'hamming' ? hamming(config.winLength) : povey(config.winLength);
    this.filters = melFilterBank(config.melScale, config.sampleRate, config.nFft, config.nMels, config.fMin, config.fMax);
    this.frame = new Float64Array(config.nFft);
    this.power = new Float64Array(config.nFft / 2 + 1);
    this.dim = featureDim(config);
    this.logMel = new Float64Array(config.nMels);
    if (config.cepstra !== undefined) this.dct = dctRows(config);
    if (config.noiseRemoval) this.noise = new NoiseSuppressor(config.nMels);
    this.mel = new Float64Array(config.nMels);
  }

  /** Number of frames produced for `numSamples` samples. */
  numFrames(numSamples: number): number {
    const { center, hopLength, winLength, dropLastFrame, sphinxFraming } = this.config;
    if (sphinxFraming) return numSamples === 0 ? 0 : (numSamples < winLength ? 0 : 1 + Math.floor((numSamples - winLength) / hopLength)) + 1;
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
    const dim = this.dim;
    const data = out ? out.subarray(0, numFrames * dim) : new Float32Array(numFrames * dim);
    if (data.length < numFrames * dim) throw new ConfigError(`features: output buffer holds ${data.length} floats, needs ${numFrames * dim}`);
    this.noise?.reset();
    for (let t = 0; t < numFrames; t++) {
      if (cfg.sphinxFraming) this.sphinxFrame(x, t);
      else this.fillFrame(x, t);
      this.frameEnergies(data, t * dim);
    }
    if (cfg.normalize === 'whisper') whisperNormalize(data);
    return { data, numFrames, dim, frameShift: cfg.hopLength / cfg.sampleRate, preset: cfg.name };
  }

  /** sphinx_fe's frame t: pre-emphasis over the signal, the window over winLength, zeros past the end. */
  private sphinxFrame(x: Float32Array, t: number): void {
    const { hopLength, winLength, inputScale: s, preemphasis: c } = this.config;
    const frame = this.frame, win = this.window;
    const start = t * hopLength, end = Math.min(x.length, start + winLength);
    let prev = start > 0 ? x[start - 1] * s : 0;
    for (let i = start; i < end; i++) {
      const v = x[i] * s;
      frame[i - start] = (v - c * prev) * win[i - start];
      prev = v;
    }
    frame.fill(0, end - start);
  }

  /** Frame t, windowed, into this.frame. */
  private fillFrame(x: Float32Array, t: number): void {
    const { hopLength, winLength, nFft, inputScale, removeDcOffset, preemphasis, center } = this.config;
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
  }

  /** Power spectrum of this.frame, mel energies, log (and cepstra) into out[o .. o + dim). */
  private frameEnergies(out: Float32Array, o: number): void {
    const { logFloor, logFloorAdded } = this.config;
    this.fft.powerSpectrum(this.frame, this.power);
    const { start: fs, length: fl, offset: fo, weights, nMels } = this.filters;
    const power = this.power, dct = this.dct, logMel = this.logMel, mel = this.mel;
    const log10 = this.config.log === 'log10';
    for (let m = 0; m < nMels; m++) {
      let e = 0;
      const s = fs[m], w = fo[m] - s;
      for (let k = s, end = s + fl[m]; k < end; k++) e += weights[w + k] * power[k];
      mel[m] = e;
    }
    this.noise?.apply(mel);
    for (let m = 0; m < nMels; m++) {
      let e = mel[m];
      if (logFloorAdded) e += logFloor;
      else if (e < logFloor) e = logFloor;
      const v = log10 ? Math.log10(e) : Math.log(e);
      if (dct) logMel[m] = v;
      else out[o + m] = v;
    }
    if (!dct) return;
    for (let i = 0, n = this.dim; i < n; i++) {
      let acc = 0;
      for (let m = 0, r = i * nMels; m < nMels; m++) acc += dct[r + m] * logMel[m];
      out[o + i] = acc;
    }
  }
}

/**
 * Rows of the orthonormal DCT-II (sphinxbase's 'dct' transform: row 0 times sqrt(1/N), the others
 * cos(pi i (m + 0.5) / N) times sqrt(2/N); sphinxbase stores the cosines in single precision), each
 * row times its lifter weight 1 + L/2 sin(pi i / L).
 */
function dctRows(c: Readonly<FeatureConfig>): Float64Array {
  const n = c.nMels, k = c.cepstra ?? n, lifter = c.lifter ?? 0;
  const rows = new Float64Array(k * n);
  for (let i = 0; i < k; i++) {
    const lift = lifter > 0 ? 1 + (lifter / 2) * Math.sin((i * Math.PI) / lifter) : 1;
    for (let m = 0; m < n; m++) {
      const basis = i === 0 ? Math.sqrt(1 / n) : Math.fround(Math.cos((Math.PI / n) * i * (m + 0.5))) * Math.sqrt(2 / n);
      rows[i * n + m] = basis * lift;
    }
  }
  return rows;
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
