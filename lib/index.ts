/**
 * adapt-asr public API: re-exports only.
 */
export type { Waveform, Features } from './types.js';
export { AdaptAsrError, UsageError, InputError, ConfigError, EXIT_CODES } from './errors.js';
export { SAMPLE_RATE, loadAudio, decodeWav, parseWavHeader, resample, Resampler, toModelRate, validateWaveform } from './audio/index.js';
export type { LoadAudioOptions, ResampleConfig, WavInfo, ReadWavOptions } from './audio/index.js';
export { computeFeatures, getExtractor, LogMelExtractor, PRESETS, PRESET_NAMES, resolveFeatureConfig } from './features/index.js';
export type { FeatureConfig, PresetName } from './features/index.js';
export { readNpy, writeNpy, encodeNpy } from './io/npy.js';
export { spectrogramPng, writeSpectrogramPng } from './io/spectrogram-png.js';
export { initTraining } from './train/backend.js';
export type { TrainingBackend, TrainingRuntime } from './train/backend.js';
export { BUNDLED_ACCENT_MODEL, DEFAULT_MODEL, Encoder, loadManifest, validateManifest, listModels, resolveModel, importModel, inspectModel, userModelsDir, bundledModelsDir, planChunks } from './encoder/index.js';
export type { EncoderOptions, EncoderOutput, ModelManifest, ModelDir, EncoderKind, ImportOptions, InspectReport, ModelListing } from './encoder/index.js';
export { normalizeUtterance, normalizeGlobal, normalizeWaveform, subtractMean } from './features/normalize.js';
export { loadRecognizer, Recognizer, type RecognizerOptions, type DecodeOptions, type Transcript } from './pipeline/recognizer.js';
export { evaluate, type EvalResult } from './pipeline/evaluate.js';
export { trainAdapter, bundledAccents, type TrainOptions, type TrainResult, type EpochReport } from './train/trainer.js';
export { loadAdapter } from './adapter/io.js';
export { exportModel, type ExportInfo, type ExportOptions } from './export/export.js';
export { startServer, type ServeOptions, type RunningServer } from './serve/server.js';
export { submitBatch, batchStatus, batchResults, submitTraining, trainStatus, type SubmitOptions, type BatchStatus, type BatchResults, type TrainStatus } from './queue/submit.js';
export { startQueueWorker, type QueueWorkerOptions, type QueueWorker } from './queue/worker.js';
export { normalizeText } from './text/normalize.js';
export { ArpaLm } from './decode/arpa.js';
export type { Hypothesis, WordTiming } from './decode/types.js';
