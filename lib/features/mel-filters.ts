/**
 * Mel filterbanks, stored sparsely: filter m covers FFT bins [start[m], start[m] + length[m]) with
 * weights at weights[offset[m] ...]. Built once per configuration and memoized.
 *
 * - 'slaney': librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm='slaney'), the
 *   filters openai/whisper ships in assets/mel_filters.npz. Slaney's mel scale is linear below
 *   1 kHz and logarithmic above; each triangle is scaled to unit area (2 / bandwidth in Hz).
 * - 'kaldi': Kaldi's MelBanks as in torchaudio.compliance.kaldi.get_mel_banks: mel = 1127 ln(1 + f/700),
 *   triangles equally spaced in mel between fMin and fMax, peak 1, evaluated at the mel value of each
 *   FFT bin centre; the Nyquist bin always gets weight 0.
 * - 'sphinx': sphinxbase's fe_build_melfilters with round_filters and unit_area (its defaults):
 *   mel = 2595 log10(1 + f/700), each triangle's three corners rounded to the nearest FFT bin,
 *   weights min(rise, fall) * 2 / bandwidth in Hz over the bins from the left to the right corner;
 *   the Nyquist bin is never used.
 */

export type MelScale = 'slaney' | 'kaldi' | 'sphinx';

export interface MelFilterBank {
  nMels: number;
  /** Number of power-spectrum bins the filters read (nFft / 2 + 1). */
  nBins: number;
  start: Int32Array;
  length: Int32Array;
  offset: Int32Array;
  weights: Float64Array;
}

const cache = new Map<string, MelFilterBank>();

/** Mel filterbank for a power spectrum of nFft/2 + 1 bins at sampleRate. */
export function melFilterBank(scale: MelScale, sampleRate: number, nFft: number, nMels: number, fMin: number, fMax: number): MelFilterBank {
  const key = [scale, sampleRate, nFft, nMels, fMin, fMax].join(':');
  let fb = cache.get(key);
  if (!fb) {
    fb = sparsify(denseMelFilters(scale, sampleRate, nFft, nMels, fMin, fMax), nMels, nFft / 2 + 1);
    cache.set(key, fb);
  }
  return fb;
}

/** The filterbank as a dense (nMels, nBins) row-major array (for tests and plots). */
export function denseMelFilters(scale: MelScale, sampleRate: number, nFft: number, nMels: number, fMin: number, fMax: number): Float64Array {
  if (scale === 'slaney') return slaneyDense(sampleRate, nFft, nMels, fMin, fMax);
  return scale === 'kaldi' ? kaldiDense(sampleRate, nFft, nMels, fMin, fMax) : sphinxDense(sampleRate, nFft, nMels, fMin, fMax);
}

/** sphinxbase computes the corners in single precision; Math.fround keeps the bin rounding identical. */
function sphinxDense(sampleRate: number, nFft: number, nMels: number, fMin: number, fMax: number): Float64Array {
  const f32 = Math.fround;
  const mel = (f: number): number => f32(2595 * Math.log10(1 + f / 700));
  const melInv = (m: number): number => f32(700 * (Math.pow(10, m / 2595) - 1));
  const nBins = nFft / 2 + 1;
  const melMin = mel(fMin), melMax = mel(fMax);
  const melBw = f32((melMax - melMin) / (nMels + 1));
  const binHz = f32(sampleRate / nFft);
  const w = new Float64Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const f: number[] = [];
    for (let j = 0; j < 3; j++) f.push(f32(Math.trunc(melInv(f32((m + j) * melBw + melMin)) / binHz + 0.5) * binHz));
    for (let k = 0; k < nBins - 1; k++) {
      const hz = f32(k * binHz);
      if (hz < f[0] || hz > f[2]) continue;
      const rise = f32(f32((hz - f[0]) / (f[1] - f[0])) * f32(2 / (f[2] - f[0])));
      const fall = f32(f32((f[2] - hz) / (f[2] - f[1])) * f32(2 / (f[2] - f[0])));
      w[m * nBins + k] = rise < fall ? rise : fall;
    }
  }
  return w;
}

const F_SP = 200 / 3; // Hz per mel in the linear region
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOGSTEP = Math.log(6.4) / 27;

function hzToSlaney(f: number): number {
  return f >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOGSTEP : f / F_SP;
}
function slaneyToHz(m: number): number {
  return m >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOGSTEP * (m - MIN_LOG_MEL)) : F_SP * m;
}

function slaneyDense(sampleRate: number, nFft: number, nMels: number, fMin: number, fMax: number): Float64Array {
  const nBins = nFft / 2 + 1;
  const melMin = hzToSlaney(fMin), melMax = hzToSlaney(fMax);
  const melF = new Float64Array(nMels + 2); // band edges in Hz
  for (let i = 0; i < nMels + 2; i++) melF[i] = slaneyToHz(melMin + ((melMax - melMin) * i) / (nMels + 1));
  const w = new Float64Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const lo = melF[m], ce = melF[m + 1], hi = melF[m + 2];
    const enorm = 2 / (hi - lo);
    for (let k = 0; k < nBins; k++) {
      const f = (k * sampleRate) / nFft; // np.fft.rfftfreq
      const lower = (f - lo) / (ce - lo);
      const upper = (hi - f) / (hi - ce);
      w[m * nBins + k] = Math.max(0, Math.min(lower, upper)) * enorm;
    }
  }
  return w;
}

function kaldiMel(f: number): number {
  return 1127 * Math.log(1 + f / 700);
}

/**
 * Kaldi's banks are computed in single precision (BaseFloat in Kaldi, float32 tensors in
 * torchaudio). Rounding every step the same way, with Math.fround, makes the weights match the
 * reference to about 1e-7 instead of 1e-5; that matters when a strong tone sits at the foot of a
 * triangle, where a small weight's relative error becomes a visible log-energy error.
 */
function kaldiDense(sampleRate: number, nFft: number, nMels: number, fMin: number, fMax: number): Float64Array {
  const f32 = Math.fround;
  const nBins = nFft / 2 + 1;
  const binWidth = sampleRate / nFft;
  // Scalars are computed in double and enter float32 tensor arithmetic rounded to float32.
  const melLow = kaldiMel(fMin), melHigh = kaldiMel(fMax);
  const delta = f32((melHigh - melLow) / (nMels + 1));
  const low = f32(melLow);
  const binMel = new Float64Array(nBins - 1); // mel of each FFT bin centre, float32 arithmetic
  for (let k = 0; k < nBins - 1; k++) {
    const freq = f32(binWidth * k);
    binMel[k] = f32(1127 * f32(Math.log(f32(1 + f32(freq / 700)))));
  }
  const w = new Float64Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const left = f32(low + f32(m * delta));
    const center = f32(low + f32((m + 1) * delta));
    const right = f32(low + f32((m + 2) * delta));
    for (let k = 0; k < nBins - 1; k++) { // the Nyquist bin stays 0, as in Kaldi
      const mel = binMel[k];
      const up = f32(f32(mel - left) / f32(center - left));
      const down = f32(f32(right - mel) / f32(right - center));
      w[m * nBins + k] = Math.max(0, Math.min(up, down));
    }
  }
  return w;
}

function sparsify(dense: Float64Array, nMels: number, nBins: number): MelFilterBank {
  const start = new Int32Array(nMels), length = new Int32Array(nMels), offset = new Int32Array(nMels);
  const kept: number[] = [];
  for (let m = 0; m < nMels; m++) {
    let a = 0;
    while (a < nBins && dense[m * nBins + a] === 0) a++;
    let b = nBins;
    while (b > a && dense[m * nBins + b - 1] === 0) b--;
    start[m] = a;
    length[m] = b - a;
    offset[m] = kept.length;
    for (let k = a; k < b; k++) kept.push(dense[m * nBins + k]);
  }
  return { nMels, nBins, start, length, offset, weights: Float64Array.from(kept) };
}
