/** Pretrained encoders: model directories, ONNX Runtime sessions, chunked encoding. */
export { Encoder, type EncoderOptions, type EncoderOutput } from './encoder.js';
export { loadManifest, validateManifest, ENCODER_KINDS, type ModelManifest, type ModelDir, type EncoderKind, type EncoderSpec, type FrontEnd, type CtcHeadSpec } from './manifest.js';
export { BUNDLED_ACCENT_MODEL, DEFAULT_MODEL, listModels, resolveModel, userModelsDir, bundledModelsDir, type ModelListing } from './registry.js';
export { importModel, type ImportOptions } from './import.js';
export { inspectModel, formatInspect, type InspectReport } from './inspect.js';
export { planChunks, type Chunk } from './chunks.js';
export { checkKind } from './kinds.js';
export { onnxRuntimeVersion } from './session.js';
