/**
 * `models import`: check that an ONNX file fits an encoder kind, probe its hidden size and frame
 * shift by running it, and write a model directory (model.json + encoder.onnx) atomically.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ModelError, UsageError } from '../errors.js';
import { replaceFolder } from '../io/atomic.js';
import { featureDim, PRESETS, type PresetName } from '../features/presets.js';
import { sha256File } from '../io/sha256.js';
import { checkKind, WHISPER_FRAMES } from './kinds.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, validateManifest, type EncoderKind, type FrontEnd, type ModelDir, type ModelManifest } from './manifest.js';
import { readOnnxInfo } from './onnx-info.js';
import { createSession, type OnnxSession } from './session.js';

/** Options of importModel: the model's kind and name, its front end, and where to install it. */
export interface ImportOptions {
  kind: EncoderKind;
  name: string;
  /** Feature preset (features and whisper kinds; whisper defaults to the model's mel count). */
  preset?: PresetName;
  modelsDir: string;
  /** Replace an existing model of that name. */
  force?: boolean;
  /** Feature normalisation for the features kind (default 'none'). */
  normalize?: 'none' | 'utterance';
  description?: string;
  license?: string;
  trainingData?: string;
}

/** Output frames for an input of `n` units (feature frames or samples). */
async function probe(session: OnnxSession, input: string, output: string, layout: string, n: number, nMels: number): Promise<{ frames: number; dim: number }> {
  const dims = layout === 'BS' ? [1, n] : layout === 'BFT' ? [1, nMels, n] : [1, n, nMels];
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.1; // not silence: some models dislike all-zero input
  const out = await session.run(input, data, dims, output);
  if (out.dims.length !== 3) throw new ModelError(`output ${output} has rank ${out.dims.length}, expected [batch, frames, d]`);
  return { frames: out.dims[1], dim: out.dims[2] };
}

/**
 * Run an encoder on probe input: check that it fits the kind, and measure its hidden size and frame shift.
 * @param outputName the output to read (default: the one the kind's convention names)
 */
export async function probeEncoder(file: string, kind: EncoderKind, preset?: PresetName, outputName?: string): Promise<{ input: { name: string; layout: 'BTF' | 'BFT' | 'BS' }; output: { name: string; type: 'hidden' | 'logits' }; preset?: PresetName; frameShift: number; dim: number }> {
  const session = await createSession(file, { threads: 1 });
  try {
    const fit = checkKind(kind, session.inputs, outputName ? session.outputs.filter((o) => o.name === outputName || o.name === 'logits' || o.name === 'last_hidden_state') : session.outputs, preset);
    if (!fit.ok || !fit.input) throw new ModelError(`does not fit encoder kind '${kind}': ${fit.problems.join('; ')}`, file);
    const output = outputName ? { name: outputName, type: 'hidden' as const } : fit.output ? { name: fit.output.name, type: fit.output.type } : undefined;
    if (!output) throw new ModelError(`does not fit encoder kind '${kind}': no usable output`, file);
    const nMels = fit.preset ? featureDim(PRESETS[fit.preset]) : 0;
    if (kind === 'whisper') {
      const p = await probe(session, fit.input.name, output.name, 'BFT', WHISPER_FRAMES, nMels);
      if (p.frames !== 1500) throw new ModelError(`gives ${p.frames} frames per 30 s window; Whisper encoders give 1500`, file);
      return { input: fit.input, output, preset: fit.preset, frameShift: 0.02, dim: p.dim };
    }
    // Frames added per extra second of input gives the frame shift exactly, whatever the edge effects.
    const unitsPerSec = kind === 'waveform' ? 16000 : 100;
    const a = await probe(session, fit.input.name, output.name, fit.input.layout, 2 * unitsPerSec, nMels);
    const b = await probe(session, fit.input.name, output.name, fit.input.layout, 4 * unitsPerSec, nMels);
    if (b.frames <= a.frames) throw new ModelError(`output length does not grow with the input (${a.frames} frames for 2 s, ${b.frames} for 4 s); not a frame-level encoder`, file);
    return { input: fit.input, output, preset: fit.preset, frameShift: Math.round((2 / (b.frames - a.frames)) * 1e6) / 1e6, dim: a.dim };
  } finally {
    await session.release();
  }
}

/**
 * Import an ONNX encoder into a model folder (model.json + encoder.onnx) under options.modelsDir: checks
 * that its inputs and outputs fit the kind and probes it for its hidden size and frame shift (seconds).
 * @returns the new model folder
 */
export async function importModel(file: string, options: ImportOptions): Promise<ModelDir> {
  const { kind, name, modelsDir } = options;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new UsageError(`--name '${name}' must be letters, digits, '.', '_' or '-'`);
  if (!fs.existsSync(file)) throw new ModelError('file not found', file);
  const target = path.join(modelsDir, name);
  if (fs.existsSync(target) && !options.force) throw new UsageError(`a model named '${name}' already exists in ${modelsDir}; use --force to replace it`);
  const info = readOnnxInfo(file);
  if (info.externalData.length > 0) throw new ModelError(`keeps its weights in separate files (${info.externalData.join(', ')}); adapt-asr imports single-file ONNX models`, file);

  const p = await probeEncoder(file, kind, options.preset);
  const frontEnd: FrontEnd = kind === 'waveform'
    ? { type: 'waveform', normalization: 'utterance' }
    : { type: 'features', preset: p.preset!, normalization: { type: kind === 'whisper' ? 'none' : options.normalize ?? 'none' } };
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT, version: MANIFEST_VERSION, name, modelVersion: '1',
    description: options.description ?? `${kind} encoder imported from ${path.basename(file)}`,
    license: options.license ?? 'unknown (set by the importer)',
    trainingData: options.trainingData ?? 'unknown (set by the importer)',
    frontEnd,
    encoder: { file: 'encoder.onnx', sha256: sha256File(file), kind, input: p.input, output: { name: p.output.name, layout: 'BTD', type: p.output.type }, frameShift: p.frameShift, hiddenSize: p.dim },
  };
  validateManifest(manifest, path.join(target, 'model.json'));

  // Write into a hidden temporary folder, then rename: a half-imported model is never visible.
  fs.mkdirSync(modelsDir, { recursive: true });
  const tmp = path.join(modelsDir, `.${name}.importing-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    fs.mkdirSync(tmp);
    fs.copyFileSync(file, path.join(tmp, 'encoder.onnx'));
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(manifest, null, 2) + '\n');
    replaceFolder(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new ModelError(`cannot write the model directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, target);
  }
  return { dir: target, manifest: Object.freeze(manifest) };
}
