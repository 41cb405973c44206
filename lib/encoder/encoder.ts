/**
 * A frozen pretrained encoder: audio in, hidden-state frames out.
 *
 *   const enc = await Encoder.create('models/base-en');
 *   try { const { frames, numFrames, dim } = await enc.encode(audio); } finally { await enc.release(); }
 *
 * Long audio is encoded in chunks (lib/encoder/chunks.ts) so memory stays bounded; inner chunk
 * edges get `contextSeconds` of discarded overlap. Whisper always works on 30 s windows: each
 * window's audio is zero-padded to 30 s and gets its own log-mel normalisation (as the Hugging Face
 * feature extractor does), and the output is trimmed to the real length.
 */
import fs from 'node:fs';
import path from 'node:path';
import { toModelRate } from '../audio/index.js';
import { SAMPLE_RATE } from '../audio/constants.js';
import { InputError, ModelError } from '../errors.js';
import { getExtractor, type LogMelExtractor } from '../features/index.js';
import { normalizeGlobal, normalizeUtterance, normalizeWaveform, subtractMean } from '../features/normalize.js';
import { sha256File } from '../io/sha256.js';
import type { Waveform } from '../types.js';
import { planChunks, type Chunk } from './chunks.js';
import { checkKind, WHISPER_FRAMES, WHISPER_OUTPUT_FRAMES, WHISPER_WINDOW_SAMPLES } from './kinds.js';
import { loadManifest, type ModelDir, type ModelManifest } from './manifest.js';
import { createSession, type OnnxSession } from './session.js';

/** Encoder output: `frames` is (numFrames, dim), row-major; frame i covers time i * frameShift. */
export interface EncoderOutput {
  frames: Float32Array;
  numFrames: number;
  dim: number;
  frameShift: number;
}

/** Options of Encoder.create. */
export interface EncoderOptions {
  /** ONNX Runtime threads per operator (default: all cores). */
  threads?: number;
  /** Check the encoder file against the sha256 in model.json (default true). */
  verifyChecksum?: boolean;
  /** ONNX Runtime's CPU memory arena (default true; see SessionOptions.memArena). */
  memArena?: boolean;
  /** Longest piece encoded at once, in seconds (default: model.json's, else 20; whisper: 30). */
  chunkSeconds?: number;
  /** Overlap discarded at inner chunk edges, in seconds (default: model.json's, else 1; whisper 2). */
  contextSeconds?: number;
}

const FEATURE_SHIFT = 0.01; // every preset hops 10 ms

/**
 * A frozen pretrained encoder in ONNX Runtime: audio (16 kHz waveform) -> hidden frames (numFrames, dim)
 * every frameShift seconds. Long audio is encoded in bounded chunks. Create with `await Encoder.create(model)`,
 * end with `await encoder.release()`.
 */
export class Encoder {
  readonly manifest: Readonly<ModelManifest>;
  readonly dir: string;
  readonly dim: number;
  readonly frameShift: number;
  private readonly session: OnnxSession;
  private readonly extractor?: LogMelExtractor;
  private readonly chunkFrames: number;
  private readonly contextFrames: number;
  /** Input units (feature frames or samples) per output frame. */
  private readonly stride: number;
  private released = false;

  private constructor(model: ModelDir, session: OnnxSession, options: EncoderOptions) {
    const { manifest } = model;
    const spec = manifest.encoder;
    this.manifest = manifest;
    this.dir = model.dir;
    this.session = session;
    this.dim = spec.hiddenSize;
    this.frameShift = spec.frameShift;
    if (manifest.frontEnd.type === 'features') this.extractor = getExtractor(manifest.frontEnd.preset);
    const unit = spec.kind === 'features' ? FEATURE_SHIFT : 1 / SAMPLE_RATE;
    this.stride = Math.round(spec.frameShift / unit);
    if (Math.abs(this.stride * unit - spec.frameShift) > 1e-9) {
      throw new ModelError(`encoder.frameShift ${spec.frameShift} s is not a whole number of input ${spec.kind === 'features' ? '10 ms frames' : 'samples'}`, path.join(model.dir, 'model.json'));
    }
    const chunkSeconds = spec.kind === 'whisper' ? 30 : options.chunkSeconds ?? spec.chunkSeconds ?? 20;
    const contextSeconds = options.contextSeconds ?? spec.contextSeconds ?? (spec.kind === 'whisper' ? 2 : 1);
    this.chunkFrames = spec.kind === 'whisper' ? WHISPER_OUTPUT_FRAMES : Math.round(chunkSeconds / spec.frameShift);
    this.contextFrames = Math.round(contextSeconds / spec.frameShift);
    if (!(this.chunkFrames > 2 * this.contextFrames)) throw new ModelError(`chunk of ${chunkSeconds} s must be longer than twice the context of ${contextSeconds} s`);
  }

  /**
   * Load a model directory (or an already loaded manifest), check the encoder file and its
   * inputs and outputs against model.json, and start an ONNX Runtime session.
   */
  static async create(model: string | ModelDir, options: EncoderOptions = {}): Promise<Encoder> {
    const md = typeof model === 'string' ? loadManifest(model) : model;
    const file = Encoder.verify(md, options.verifyChecksum !== false);
    const session = await createSession(file, { threads: options.threads, memArena: options.memArena });
    try {
      Encoder.checkIO(md, session, file);
      return new Encoder(md, session, options);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /**
   * An encoder on a session made elsewhere (the browser's onnxruntime-web): its inputs and outputs
   * are checked against model.json as create() checks them; the caller owns the model's bytes.
   */
  static fromSession(md: ModelDir, session: OnnxSession, options: EncoderOptions = {}): Encoder {
    Encoder.checkIO(md, session, md.manifest.encoder.file);
    return new Encoder(md, session, options);
  }

  /**
   * Check that the model's encoder file exists and (with `checksum`) matches model.json's sha256,
   * without loading it; returns its path.
   */
  static verify(md: ModelDir, checksum = true): string {
    const spec = md.manifest.encoder;
    const file = path.join(md.dir, spec.file);
    if (!fs.existsSync(file)) throw new ModelError(`encoder file ${spec.file} is missing from the model directory`, md.dir);
    if (checksum) {
      const actual = sha256File(file);
      if (actual !== spec.sha256) {
        throw new ModelError(`sha256 mismatch: model.json expects ${spec.sha256.slice(0, 12)}..., the file has ${actual.slice(0, 12)}...; the file is corrupt or was replaced: re-import or reinstall the model`, file);
      }
    }
    return file;
  }

  private static checkIO(md: ModelDir, session: OnnxSession, file: string): void {
    const spec = md.manifest.encoder;
    const inp = session.inputs.find((t) => t.name === spec.input.name);
    const out = session.outputs.find((t) => t.name === spec.output.name);
    if (!inp) throw new ModelError(`model.json names input '${spec.input.name}' but the model's inputs are: ${session.inputs.map((t) => t.name).join(', ')}`, file);
    if (!out) throw new ModelError(`model.json names output '${spec.output.name}' but the model's outputs are: ${session.outputs.map((t) => t.name).join(', ')}`, file);
    const top = md.manifest.trainableTop;
    if (top && !session.outputs.some((t) => t.name === top.output)) throw new ModelError(`model.json names trainableTop.output '${top.output}' but the model's outputs are: ${session.outputs.map((t) => t.name).join(', ')}`, file);
    const preset = md.manifest.frontEnd.type === 'features' ? md.manifest.frontEnd.preset : undefined;
    const fit = checkKind(spec.kind, session.inputs, session.outputs, preset);
    if (!fit.ok) throw new ModelError(`does not fit encoder kind '${spec.kind}': ${fit.problems.join('; ')}`, file);
    const d = out.shape[2];
    if (typeof d === 'number' && d !== spec.hiddenSize) throw new ModelError(`model.json says hiddenSize ${spec.hiddenSize} but output ${out.name} has ${d}`, file);
  }

  /**
   * Encode mono audio (any rate; resampled to 16 kHz).
   * @param output the ONNX output to return (default the encoder output of model.json; a model with
   *   trainable top blocks also offers the hidden states that enter them)
   */
  async encode(audio: Waveform, output?: string): Promise<EncoderOutput> {
    if (this.released) throw new ModelError('encoder was released');
    const spec = this.manifest.encoder;
    if (output !== undefined && output !== spec.output.name && output !== this.manifest.trainableTop?.output) {
      throw new ModelError(`encoder has no output '${output}' (outputs: ${[spec.output.name, this.manifest.trainableTop?.output].filter(Boolean).join(', ')})`, this.dir);
    }
    const name = output ?? spec.output.name;
    const wave = toModelRate(audio, SAMPLE_RATE);
    const kind = spec.kind;
    const pieces = kind === 'whisper' ? await this.encodeWhisper(wave.samples, name) : kind === 'waveform' ? await this.encodeWaveform(wave.samples, name) : await this.encodeFeatures(wave, name);
    let numFrames = 0;
    for (const p of pieces) numFrames += p.length / this.dim;
    const frames = new Float32Array(numFrames * this.dim);
    let o = 0;
    for (const p of pieces) { frames.set(p, o); o += p.length; }
    return { frames, numFrames, dim: this.dim, frameShift: this.frameShift };
  }

  /** Run one chunk and return its kept output rows. */
  private async runChunk(chunk: Chunk, last: boolean, data: Float32Array, dims: number[], name: string): Promise<Float32Array> {
    const spec = this.manifest.encoder;
    const out = await this.session.run(spec.input.name, data, dims, name);
    const [b, n, d] = out.dims;
    if (out.dims.length !== 3 || b !== 1 || d !== this.dim) throw new ModelError(`output ${name} has shape [${out.dims.join(', ')}], expected [1, frames, ${this.dim}]`, this.dir);
    for (let i = 0; i < out.data.length; i++) {
      if (!Number.isFinite(out.data[i])) throw new ModelError(`encoder produced a non-finite value (NaN or Infinity) at output frame ${chunk.start + Math.floor(i / d)}; the model is broken or its input is out of range`, path.join(this.dir, spec.file));
    }
    const from = chunk.keepStart - chunk.start;
    const to = last ? n : Math.min(n, chunk.keepEnd - chunk.start);
    if (!last && to < chunk.keepEnd - chunk.start) {
      throw new ModelError(`encoder gave ${n} frames for a chunk that should give ${chunk.end - chunk.start}; check encoder.frameShift in model.json`, this.dir);
    }
    return out.data.slice(from * d, Math.max(from, to) * d);
  }

  private async encodeFeatures(wave: Waveform, name: string): Promise<Float32Array[]> {
    const fe = this.manifest.frontEnd;
    if (fe.type !== 'features' || !this.extractor) throw new ModelError('features encoder without a feature front end');
    const feats = this.extractor.compute(wave);
    const { numFrames: T, dim: F, data } = feats;
    if (T === 0) throw new InputError(`audio too short for the encoder (${wave.samples.length} samples)`);
    if (fe.normalization.type === 'utterance') normalizeUtterance(data, T, F);
    else if (fe.normalization.type === 'mean') subtractMean(data, T, F);
    else if (fe.normalization.type === 'global') normalizeGlobal(data, T, F, fe.normalization.mean, fe.normalization.std);
    const chunks = planChunks(Math.ceil(T / this.stride), this.chunkFrames, this.contextFrames);
    const bft = this.manifest.encoder.input.layout === 'BFT';
    const pieces: Float32Array[] = [];
    for (let k = 0; k < chunks.length; k++) {
      const c = chunks[k];
      const t0 = c.start * this.stride, t1 = Math.min(T, c.end * this.stride);
      const n = t1 - t0;
      let input = data.subarray(t0 * F, t1 * F);
      if (bft) {
        const tr = new Float32Array(n * F); // (F, n)
        for (let t = 0; t < n; t++) for (let f = 0; f < F; f++) tr[f * n + t] = input[t * F + f];
        input = tr;
      }
      pieces.push(await this.runChunk(c, k === chunks.length - 1, input, bft ? [1, F, n] : [1, n, F], name));
    }
    return pieces;
  }

  private async encodeWhisper(samples: Float32Array, name: string): Promise<Float32Array[]> {
    const ex = this.extractor!;
    const F = ex.config.nMels;
    const N = samples.length;
    const chunks = planChunks(Math.ceil(N / this.stride), this.chunkFrames, this.contextFrames);
    const window = new Float32Array(WHISPER_WINDOW_SAMPLES);
    const mel = new Float32Array(WHISPER_FRAMES * F);
    const input = new Float32Array(F * WHISPER_FRAMES); // (F, 3000)
    const pieces: Float32Array[] = [];
    for (let k = 0; k < chunks.length; k++) {
      const c = chunks[k];
      const s0 = c.start * this.stride;
      window.fill(0);
      window.set(samples.subarray(s0, Math.min(N, s0 + WHISPER_WINDOW_SAMPLES)));
      ex.compute({ samples: window, sampleRate: SAMPLE_RATE }, mel); // whisper-N: exactly 3000 frames
      for (let t = 0; t < WHISPER_FRAMES; t++) for (let f = 0; f < F; f++) input[f * WHISPER_FRAMES + t] = mel[t * F + f];
      // Trim the padding: keep frames up to the chunk's real end.
      const piece = await this.runChunk({ ...c, keepEnd: k === chunks.length - 1 ? c.end : c.keepEnd }, false, input, [1, F, WHISPER_FRAMES], name);
      pieces.push(piece);
    }
    return pieces;
  }

  private async encodeWaveform(samples: Float32Array, name: string): Promise<Float32Array[]> {
    const fe = this.manifest.frontEnd;
    const x = fe.type === 'waveform' && fe.normalization === 'utterance' ? normalizeWaveform(samples) : samples;
    const N = x.length;
    if (N < 400) throw new InputError(`audio too short for a waveform encoder (${N} samples; needs at least 400, 25 ms)`);
    const chunks = planChunks(Math.ceil(N / this.stride), this.chunkFrames, this.contextFrames);
    const pieces: Float32Array[] = [];
    for (let k = 0; k < chunks.length; k++) {
      const c = chunks[k];
      // wav2vec2 frame j covers samples [320 j, 320 j + 400): a chunk of m frames needs 320 m + 80 samples.
      const s0 = c.start * this.stride, s1 = Math.min(N, c.end * this.stride + 80);
      pieces.push(await this.runChunk(c, k === chunks.length - 1, x.slice(s0, s1), [1, s1 - s0], name));
    }
    return pieces;
  }

  /** Free the ONNX Runtime session. Safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
