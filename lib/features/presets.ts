/**
 * Feature configurations. A pretrained encoder only works on the exact features it was trained on,
 * so the presets reproduce their reference implementations and are frozen; a custom configuration
 * starts from a preset and is validated in resolveFeatureConfig().
 */
import { ConfigError } from '../errors.js';
import { SAMPLE_RATE } from '../audio/constants.js';
import type { MelScale } from './mel-filters.js';

/** Every knob of the log-mel front end. */
export interface FeatureConfig {
  /** Preset name, or 'custom'. */
  name: string;
  /** Input rate in Hz (16000 for every preset; audio is resampled to it). */
  sampleRate: number;
  /** FFT size in samples (whisper 400, kaldi 512). Any even size; powers of two are fastest. */
  nFft: number;
  /** Analysis window length in samples, <= nFft; the frame is zero-padded to nFft (kaldi 400 in 512). */
  winLength: number;
  /** Hop between frames in samples (160 = 10 ms). */
  hopLength: number;
  /** 'hann' (periodic, torch.hann_window), 'povey' (Kaldi: symmetric Hann to the power 0.85) or 'hamming' (symmetric, sphinxbase). */
  window: 'hann' | 'povey' | 'hamming';
  /** true: frames centred on t*hop with reflect padding (torch.stft center=True); false: Kaldi snip_edges. */
  center: boolean;
  /** Drop the last frame (Whisper does: frames = floor(samples / hop)). */
  dropLastFrame: boolean;
  /** Samples are multiplied by this first (Kaldi works on 16-bit integer scale: 32768). */
  inputScale: number;
  /** Subtract each frame's mean before windowing (Kaldi). */
  removeDcOffset: boolean;
  /** Pre-emphasis coefficient, 0 for none (Kaldi 0.97; x[i] - c x[i-1] within the frame, x[-1] = x[0]). */
  preemphasis: number;
  /**
   * Framing as sphinxbase does it (sphinx_fe, PocketSphinx): pre-emphasis runs over the whole signal
   * (the sample before a frame is the real previous sample, 0 before the first), and the samples left
   * after the last full frame make one more frame, zero-padded. Needs center false. Default false.
   */
  sphinxFraming?: boolean;
  /** Mel scale and filter shape. */
  melScale: MelScale;
  nMels: number;
  /** Lowest and highest filter edge in Hz. */
  fMin: number;
  fMax: number;
  /** Logarithm applied to the mel energies, after flooring them at logFloor. */
  log: 'log10' | 'ln';
  logFloor: number;
  /** true: log(e + logFloor) (sphinxbase); false (default): log(max(e, logFloor)). */
  logFloorAdded?: boolean;
  /**
   * Cepstra: when set, the log energies go through the orthonormal DCT-II (sphinxbase's 'dct'
   * transform) and the first `cepstra` coefficients are kept; the feature dimension is then `cepstra`.
   */
  cepstra?: number;
  /** Sinusoidal lifter length L (c[i] *= 1 + L/2 sin(pi i / L)); 0 or absent for none. */
  lifter?: number;
  /** 'whisper': clamp to (max - 8) over the utterance, then (x + 4) / 4. 'none': raw log energies. */
  normalize: 'whisper' | 'none';
  /** sphinxbase's noise suppression on the mel energies before the log (sphinx_fe -remove_noise yes; see noise.ts). Default false. */
  noiseRemoval?: boolean;
}

/**
 * Names of the feature front ends: whisper-80 and whisper-128 (openai/whisper), kaldi-fbank-80
 * (torchaudio's Kaldi fbank), sphinx-mfcc-13 (sphinxbase's MFCC as PocketSphinx's en-us model uses it),
 * sphinx-mfcc-13-nr (the same with sphinxbase's noise suppression, PocketSphinx's default).
 */
export type PresetName = 'whisper-80' | 'whisper-128' | 'kaldi-fbank-80' | 'sphinx-mfcc-13' | 'sphinx-mfcc-13-nr';

/** The number of values per frame a configuration gives: its cepstra, or its mel bands. */
export function featureDim(c: Readonly<FeatureConfig>): number {
  return c.cepstra ?? c.nMels;
}

const whisper = (nMels: number): FeatureConfig => Object.freeze({
  name: `whisper-${nMels}`, sampleRate: SAMPLE_RATE, nFft: 400, winLength: 400, hopLength: 160,
  window: 'hann', center: true, dropLastFrame: true, inputScale: 1, removeDcOffset: false, preemphasis: 0,
  melScale: 'slaney', nMels, fMin: 0, fMax: 8000, log: 'log10', logFloor: 1e-10, normalize: 'whisper',
});

const SPHINX_MFCC = Object.freeze({
  name: 'sphinx-mfcc-13', sampleRate: SAMPLE_RATE, nFft: 512, winLength: 410, hopLength: 160,
  window: 'hamming', center: false, dropLastFrame: false, inputScale: 32768, removeDcOffset: false,
  preemphasis: 0.97, sphinxFraming: true, melScale: 'sphinx', nMels: 25, fMin: 130, fMax: 6800, log: 'ln',
  logFloor: 1e-4, logFloorAdded: true, cepstra: 13, lifter: 22, normalize: 'none',
} as FeatureConfig);

/** The built-in presets. */
export const PRESETS: Readonly<Record<PresetName, Readonly<FeatureConfig>>> = Object.freeze({
  // openai/whisper audio.py log_mel_spectrogram(audio, n_mels), no padding.
  'whisper-80': whisper(80),
  'whisper-128': whisper(128),
  // torchaudio.compliance.kaldi.fbank(x * 32768, num_mel_bins=80, dither=0.0), other options default.
  'kaldi-fbank-80': Object.freeze({
    name: 'kaldi-fbank-80', sampleRate: SAMPLE_RATE, nFft: 512, winLength: 400, hopLength: 160,
    window: 'povey', center: false, dropLastFrame: false, inputScale: 32768, removeDcOffset: true,
    preemphasis: 0.97, melScale: 'kaldi', nMels: 80, fMin: 20, fMax: 8000, log: 'ln',
    logFloor: 1.1920928955078125e-7, normalize: 'none',
  } as FeatureConfig),
  // sphinx_fe -nfilt 25 -lowerf 130 -upperf 6800 -transform dct -lifter 22 -remove_noise no
  // -remove_silence no -dither no (PocketSphinx en-us feat.params; window 0.025625 s = 410 samples).
  'sphinx-mfcc-13': SPHINX_MFCC,
  // The same with -remove_noise yes (sphinx_fe's and PocketSphinx's default).
  'sphinx-mfcc-13-nr': Object.freeze({ ...SPHINX_MFCC, name: 'sphinx-mfcc-13-nr', noiseRemoval: true }),
});

/** Every preset name, in PRESETS order. */
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/**
 * Resolve a preset name, or a partial config on top of a preset (`base`, default whisper-80),
 * into a validated, frozen FeatureConfig.
 */
export function resolveFeatureConfig(spec: PresetName | string | (Partial<FeatureConfig> & { base?: PresetName })): Readonly<FeatureConfig> {
  if (typeof spec === 'string') {
    const preset = PRESETS[spec as PresetName];
    if (!preset) throw new ConfigError(`unknown feature preset '${spec}' (expected one of: ${PRESET_NAMES.join(', ')})`);
    return preset;
  }
  const { base = 'whisper-80', ...overrides } = spec;
  const basePreset = PRESETS[base];
  if (!basePreset) throw new ConfigError(`unknown base preset '${base}' (expected one of: ${PRESET_NAMES.join(', ')})`);
  if (Object.keys(overrides).length === 0) return basePreset;
  const c: FeatureConfig = { ...basePreset, name: 'custom', ...overrides };
  const bad = (field: string, want: string): never => {
    throw new ConfigError(`feature config: ${field} must be ${want}, got ${JSON.stringify((c as unknown as Record<string, unknown>)[field])}`);
  };
  const isInt = (v: number): boolean => Number.isInteger(v);
  if (!isInt(c.sampleRate) || c.sampleRate < 1000) bad('sampleRate', 'an integer >= 1000');
  if (!isInt(c.nFft) || c.nFft < 16 || c.nFft % 2 !== 0 || c.nFft > 65536) bad('nFft', 'an even integer from 16 to 65536');
  if (!isInt(c.winLength) || c.winLength < 2 || c.winLength > c.nFft) bad('winLength', `an integer from 2 to nFft (${c.nFft})`);
  if (!isInt(c.hopLength) || c.hopLength < 1) bad('hopLength', 'a positive integer');
  if (c.window !== 'hann' && c.window !== 'povey' && c.window !== 'hamming') bad('window', "'hann', 'povey' or 'hamming'");
  if (c.sphinxFraming && c.center) bad('center', 'false when sphinxFraming is true');
  if (c.cepstra !== undefined && (!isInt(c.cepstra) || c.cepstra < 1 || c.cepstra > c.nMels)) bad('cepstra', `an integer from 1 to nMels (${c.nMels})`);
  if (c.lifter !== undefined && !(c.lifter >= 0)) bad('lifter', 'a number >= 0');
  if (c.center && c.winLength !== c.nFft) bad('winLength', 'equal to nFft when center is true');
  if (!(c.inputScale > 0)) bad('inputScale', 'a positive number');
  if (!(c.preemphasis >= 0 && c.preemphasis < 1)) bad('preemphasis', 'in [0, 1)');
  if (c.melScale !== 'slaney' && c.melScale !== 'kaldi' && c.melScale !== 'sphinx') bad('melScale', "'slaney', 'kaldi' or 'sphinx'");
  if (!isInt(c.nMels) || c.nMels < 1 || c.nMels > 512) bad('nMels', 'an integer from 1 to 512');
  if (!(c.fMin >= 0 && c.fMin < c.fMax && c.fMax <= c.sampleRate / 2)) bad('fMax', `above fMin and at most the Nyquist frequency (${c.sampleRate / 2} Hz)`);
  if (c.log !== 'log10' && c.log !== 'ln') bad('log', "'log10' or 'ln'");
  if (!(c.logFloor > 0)) bad('logFloor', 'a positive number');
  if (c.normalize !== 'whisper' && c.normalize !== 'none') bad('normalize', "'whisper' or 'none'");
  return Object.freeze(c);
}
