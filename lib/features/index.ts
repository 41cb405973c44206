/**
 * Log-mel features: presets that reproduce openai/whisper and Kaldi (torchaudio) exactly.
 */
import { toModelRate } from '../audio/index.js';
import type { Features, Waveform } from '../types.js';
import { LogMelExtractor } from './log-mel.js';
import { resolveFeatureConfig, type FeatureConfig, type PresetName } from './presets.js';

export { LogMelExtractor, whisperNormalize } from './log-mel.js';
export { featureDim, PRESETS, PRESET_NAMES, resolveFeatureConfig, type FeatureConfig, type PresetName } from './presets.js';
export { melFilterBank, denseMelFilters, type MelFilterBank, type MelScale } from './mel-filters.js';
export { createRealFft, MixedRadixFft, type RealFft } from './fft.js';

const extractors = new Map<string, LogMelExtractor>();

/** A shared extractor for a preset name; custom configs get a new one. */
export function getExtractor(spec: PresetName | string | Partial<FeatureConfig>): LogMelExtractor {
  const config = resolveFeatureConfig(spec as PresetName);
  if (config.name === 'custom') return new LogMelExtractor(config);
  let ex = extractors.get(config.name);
  if (!ex) {
    ex = new LogMelExtractor(config);
    extractors.set(config.name, ex);
  }
  return ex;
}

/**
 * Log-mel features of a waveform (resampled to 16 kHz first if needed).
 * @param audio mono waveform, samples in [-1, 1]
 * @param preset a preset name ('whisper-80', 'whisper-128', 'kaldi-fbank-80') or a partial FeatureConfig
 * @returns features (numFrames, nMels), row-major
 */
export function computeFeatures(audio: Waveform, preset: PresetName | string | Partial<FeatureConfig> = 'whisper-80'): Features {
  const ex = getExtractor(preset);
  return ex.compute(toModelRate(audio, ex.config.sampleRate));
}
