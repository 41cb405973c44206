/**
 * model.json: what a model directory holds and how to feed its encoder. Validated on load, with a
 * message that names the field, what was found and what was expected.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ModelError } from '../errors.js';
import { featureDim, PRESET_NAMES, PRESETS, type PresetName } from '../features/presets.js';

export const MANIFEST_FORMAT = 'adapt-asr-model';
export const MANIFEST_VERSION = 1;

/** How an encoder takes its input: log-mel frames of a preset ('features'), Whisper's 30 s mel windows ('whisper'), or raw 16 kHz samples ('waveform', wav2vec2/HuBERT). */
export type EncoderKind = 'features' | 'whisper' | 'waveform';
export const ENCODER_KINDS: readonly EncoderKind[] = ['features', 'whisper', 'waveform'];

/** How features are normalised before the encoder. */
export type FeatureNormalization =
  | { type: 'none' }
  /** Per utterance: each band to zero mean and unit variance over the utterance. */
  | { type: 'utterance' }
  /** Per utterance: each band's mean over the utterance subtracted (sphinxbase's batch CMN). */
  | { type: 'mean' }
  /** Stored statistics from training: (x - mean[b]) / std[b]. */
  | { type: 'global'; mean: number[]; std: number[] };

export type FrontEnd =
  | { type: 'features'; preset: PresetName; normalization: FeatureNormalization }
  /** Raw 16 kHz samples; 'utterance' = zero mean, unit variance over the utterance (wav2vec2). */
  | { type: 'waveform'; normalization: 'none' | 'utterance' };

/** Tensor layouts: B batch, T time (frames), F feature bins, S samples, D hidden size. */
export type InputLayout = 'BTF' | 'BFT' | 'BS';

/** What an encoder's output holds (see EncoderSpec.output). */
export type EncoderOutputType = 'hidden' | 'logits' | 'logprobs';

export interface EncoderSpec {
  file: string;
  sha256: string;
  kind: EncoderKind;
  input: { name: string; layout: InputLayout };
  /**
   * 'hidden': hidden states; 'logits': CTC logits of a model that has its own head (wav2vec2-CTC);
   * 'logprobs': CTC log-probabilities of an `adapt-asr export` (head and adapter inside; hiddenSize = vocab size).
   */
  output: { name: string; layout: 'BTD'; type: EncoderOutputType };
  /** Seconds between output frames (0.02 for Whisper and wav2vec2). */
  frameShift: number;
  /** Size of each output frame (D). */
  hiddenSize: number;
  /** Longest piece encoded at once, in seconds (whisper: always 30). */
  chunkSeconds?: number;
  /** Overlap discarded at each inner chunk edge, in seconds. */
  contextSeconds?: number;
}

export interface CtcHeadSpec {
  /** .npy (hiddenSize, vocab) and (vocab,), relative to the model directory; absent when the encoder outputs log-probabilities. */
  weights?: string;
  bias?: string;
  /** Output symbols in order; vocab[blank] is the CTC blank. */
  vocab: string[];
  blank: number;
  /**
   * Phone models: the pronunciation dictionary (`word PH1 PH2 ...` per line, may be gzipped),
   * relative to the model directory. Its phones are the vocab's symbols; words are spelled through it.
   */
  pronunciations?: string;
  /**
   * Phone models: letter-to-phone rules (lib/decode/g2p.ts) that guess the phones of words the
   * dictionary lacks, relative to the model directory. Without them only words made of dictionary
   * parts ("violinist's", "sidecar") are guessed.
   */
  g2p?: string;
  /** An export's extra dictionary entries (an adapter's guessed words, same format), always in the lexicon. */
  addedWords?: string;
}

/**
 * The encoder's last blocks in trainable form (`train --method top` fine-tunes them per accent).
 * The ONNX file has a second output, `output`, holding the hidden states that enter these blocks;
 * each block is a residual conv block  x + SiLU(LayerNorm(pointwise(depthwise_conv_k(x))))  with
 * tensors <prefix>.dwW.npy (kernel, d), .dwB (d), .pwW (d, d) as x W, .pwB, .lnG, .lnB (d).
 */
export interface TrainableTopSpec {
  output: string;
  block: 'conv';
  kernel: number;
  /** File prefixes, one per block, in order. */
  blocks: string[];
}

/** model.json: what a model folder holds (encoder, front end, CTC head, decoding settings, provenance). */
export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  name: string;
  modelVersion: string;
  description: string;
  license: string;
  trainingData: string;
  frontEnd: FrontEnd;
  encoder: EncoderSpec;
  ctcHead?: CtcHeadSpec;
  trainableTop?: TrainableTopSpec;
  /** Decoding defaults tuned for this model on its dev sets (recipes/base-en/tune-decoding.ts); wordBonus goes with the LM, noLmWordBonus without it. */
  decoding?: { beam?: number; lmWeight?: number; wordBonus?: number; noLmWordBonus?: number; lexicon?: boolean; oovPenalty?: number; blankPenalty?: number };
  /** Where a pulled model came from: the Hub repo, the revision asked for, the commit it resolved to, and each file with its sha256. */
  source?: ModelSource;
}

/** Provenance of a model pulled from the Hugging Face Hub (`adapt-asr models pull`). */
export interface ModelSource { hub: string; endpoint: string; revision: string; commit: string; architecture?: string; files: { path: string; sha256: string; size: number }[]; converted?: string }

/** A manifest with the directory it came from. */
export interface ModelDir {
  dir: string;
  manifest: Readonly<ModelManifest>;
}

type Json = Record<string, unknown>;

/** Validate parsed model.json contents; `file` names it in messages. */
export function validateManifest(raw: unknown, file: string): Readonly<ModelManifest> {
  const fail = (field: string, want: string, got: unknown): never => {
    const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 60);
    throw new ModelError(`invalid model.json: ${field} must be ${want}, found ${shown}`, file);
  };
  const obj = (v: unknown, field: string): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : fail(field, 'an object', v));
  const str = (o: Json, k: string, field: string): string => (typeof o[k] === 'string' && (o[k] as string).length > 0 ? (o[k] as string) : fail(field, 'a non-empty string', o[k]));
  const num = (o: Json, k: string, field: string, ok: (x: number) => boolean, want: string): number => (typeof o[k] === 'number' && ok(o[k] as number) ? (o[k] as number) : fail(field, want, o[k]));
  const oneOf = <T extends string>(o: Json, k: string, field: string, options: readonly T[]): T => (options.includes(o[k] as T) ? (o[k] as T) : fail(field, `one of ${options.join(', ')}`, o[k]));

  const m = obj(raw, '(top level)');
  if (m.format !== MANIFEST_FORMAT) fail('format', `"${MANIFEST_FORMAT}" (is this an adapt-asr model directory?)`, m.format);
  if (m.version !== MANIFEST_VERSION) fail('version', `${MANIFEST_VERSION} (made by another adapt-asr version; re-import the model)`, m.version);
  const name = str(m, 'name', 'name');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) fail('name', 'letters, digits, ".", "_" or "-"', name);
  for (const k of ['modelVersion', 'description', 'license', 'trainingData']) str(m, k, k);

  const fe = obj(m.frontEnd, 'frontEnd');
  const feType = oneOf(fe, 'type', 'frontEnd.type', ['features', 'waveform'] as const);
  let frontEnd: FrontEnd;
  if (feType === 'features') {
    const preset = oneOf(fe, 'preset', 'frontEnd.preset', PRESET_NAMES);
    const n = obj(fe.normalization, 'frontEnd.normalization');
    const nType = oneOf(n, 'type', 'frontEnd.normalization.type', ['none', 'utterance', 'mean', 'global'] as const);
    if (nType === 'global') {
      const dim = featureDim(PRESETS[preset]);
      const vec = (k: string): number[] => (Array.isArray(n[k]) && (n[k] as unknown[]).length === dim && (n[k] as unknown[]).every((x) => typeof x === 'number' && Number.isFinite(x))
        ? (n[k] as number[]) : fail(`frontEnd.normalization.${k}`, `an array of ${dim} finite numbers (one per mel band)`, n[k]));
      const mean = vec('mean'), std = vec('std');
      if (std.some((s) => !(s > 0))) fail('frontEnd.normalization.std', 'positive numbers', std.find((s) => !(s > 0)));
      frontEnd = { type: 'features', preset, normalization: { type: 'global', mean, std } };
    } else {
      frontEnd = { type: 'features', preset, normalization: { type: nType } };
    }
  } else {
    frontEnd = { type: 'waveform', normalization: oneOf(fe, 'normalization', 'frontEnd.normalization', ['none', 'utterance'] as const) };
  }

  const e = obj(m.encoder, 'encoder');
  const kind = oneOf(e, 'kind', 'encoder.kind', ENCODER_KINDS);
  const encFile = str(e, 'file', 'encoder.file');
  if (path.isAbsolute(encFile) || encFile.split(/[\\/]/).includes('..')) fail('encoder.file', 'a path inside the model directory', encFile);
  const sha256 = str(e, 'sha256', 'encoder.sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) fail('encoder.sha256', '64 lowercase hex digits', sha256);
  const input = obj(e.input, 'encoder.input');
  const output = obj(e.output, 'encoder.output');
  const spec: EncoderSpec = {
    file: encFile, sha256, kind,
    input: { name: str(input, 'name', 'encoder.input.name'), layout: oneOf(input, 'layout', 'encoder.input.layout', ['BTF', 'BFT', 'BS'] as const) },
    output: { name: str(output, 'name', 'encoder.output.name'), layout: oneOf(output, 'layout', 'encoder.output.layout', ['BTD'] as const), type: oneOf(output, 'type', 'encoder.output.type', ['hidden', 'logits', 'logprobs'] as const) },
    frameShift: num(e, 'frameShift', 'encoder.frameShift', (x) => x > 0 && x <= 1, 'a number of seconds in (0, 1]'),
    hiddenSize: num(e, 'hiddenSize', 'encoder.hiddenSize', (x) => Number.isInteger(x) && x > 0, 'a positive integer'),
  };
  if (e.chunkSeconds !== undefined) spec.chunkSeconds = num(e, 'chunkSeconds', 'encoder.chunkSeconds', (x) => x >= 1 && x <= 600, 'a number from 1 to 600');
  if (e.contextSeconds !== undefined) spec.contextSeconds = num(e, 'contextSeconds', 'encoder.contextSeconds', (x) => x >= 0 && x <= 30, 'a number from 0 to 30');
  // Kind and front end must agree.
  if (kind === 'waveform' && (frontEnd.type !== 'waveform' || spec.input.layout !== 'BS')) fail('frontEnd.type and encoder.input.layout', '"waveform" and "BS" for a waveform encoder', [frontEnd.type, spec.input.layout]);
  if (kind !== 'waveform' && (frontEnd.type !== 'features' || spec.input.layout === 'BS')) fail('frontEnd.type and encoder.input.layout', `"features" and "BTF" or "BFT" for a ${kind} encoder`, [frontEnd.type, spec.input.layout]);
  if (kind === 'whisper' && (frontEnd.type !== 'features' || !frontEnd.preset.startsWith('whisper') || spec.input.layout !== 'BFT')) {
    fail('frontEnd.preset and encoder.input.layout', 'a whisper-* preset and "BFT" for a whisper encoder', [(frontEnd as { preset?: string }).preset, spec.input.layout]);
  }

  let ctcHead: CtcHeadSpec | undefined;
  if (m.ctcHead !== undefined) {
    const h = obj(m.ctcHead, 'ctcHead');
    const vocab = Array.isArray(h.vocab) && h.vocab.length >= 2 && h.vocab.every((v) => typeof v === 'string') ? (h.vocab as string[]) : fail('ctcHead.vocab', 'an array of at least 2 strings', h.vocab);
    const exported = spec.output.type === 'logprobs';
    if (exported && vocab.length !== spec.hiddenSize) fail('encoder.hiddenSize', `the vocabulary size ${vocab.length} for a log-probabilities output`, spec.hiddenSize);
    ctcHead = {
      ...(exported ? {} : { weights: str(h, 'weights', 'ctcHead.weights'), bias: str(h, 'bias', 'ctcHead.bias') }), vocab,
      blank: num(h, 'blank', 'ctcHead.blank', (x) => Number.isInteger(x) && x >= 0 && x < vocab.length, `an index into vocab (0 to ${vocab.length - 1})`),
    };
    if (h.pronunciations !== undefined) ctcHead.pronunciations = str(h, 'pronunciations', 'ctcHead.pronunciations');
    if (h.g2p !== undefined) {
      if (h.pronunciations === undefined) fail('ctcHead.g2p', 'absent unless ctcHead.pronunciations is given', h.g2p);
      ctcHead.g2p = str(h, 'g2p', 'ctcHead.g2p');
    }
    if (h.addedWords !== undefined) {
      if (h.pronunciations === undefined) fail('ctcHead.addedWords', 'absent unless ctcHead.pronunciations is given', h.addedWords);
      ctcHead.addedWords = str(h, 'addedWords', 'ctcHead.addedWords');
    }
  }
  if (spec.output.type === 'logprobs' && !ctcHead) fail('ctcHead', 'present (vocab and blank) for a log-probabilities output', undefined);
  let trainableTop: TrainableTopSpec | undefined;
  if (m.trainableTop !== undefined) {
    const t = obj(m.trainableTop, 'trainableTop');
    const blocks = Array.isArray(t.blocks) && t.blocks.length >= 1 && t.blocks.every((b) => typeof b === 'string' && !path.isAbsolute(b) && !b.split(/[\\/]/).includes('..'))
      ? (t.blocks as string[]) : fail('trainableTop.blocks', 'a non-empty array of file prefixes inside the model directory', t.blocks);
    trainableTop = {
      output: str(t, 'output', 'trainableTop.output'),
      block: oneOf(t, 'block', 'trainableTop.block', ['conv'] as const),
      kernel: num(t, 'kernel', 'trainableTop.kernel', (x) => Number.isInteger(x) && x >= 1 && x % 2 === 1 && x <= 255, 'an odd integer from 1 to 255'),
      blocks,
    };
    if (spec.output.type !== 'hidden') fail('trainableTop', 'absent for an encoder whose output is logits', 'present');
  }
  let decoding: ModelManifest['decoding'];
  if (m.decoding !== undefined) {
    const dd = obj(m.decoding, 'decoding');
    decoding = {};
    if (dd.beam !== undefined) decoding.beam = num(dd, 'beam', 'decoding.beam', (x) => Number.isInteger(x) && x >= 1 && x <= 1000, 'an integer from 1 to 1000');
    if (dd.lmWeight !== undefined) decoding.lmWeight = num(dd, 'lmWeight', 'decoding.lmWeight', (x) => x >= 0 && x <= 10, 'a number from 0 to 10');
    if (dd.wordBonus !== undefined) decoding.wordBonus = num(dd, 'wordBonus', 'decoding.wordBonus', (x) => x >= -20 && x <= 20, 'a number from -20 to 20');
    if (dd.noLmWordBonus !== undefined) decoding.noLmWordBonus = num(dd, 'noLmWordBonus', 'decoding.noLmWordBonus', (x) => x >= -20 && x <= 20, 'a number from -20 to 20');
    if (dd.lexicon !== undefined) decoding.lexicon = typeof dd.lexicon === 'boolean' ? dd.lexicon : fail('decoding.lexicon', 'true or false', dd.lexicon);
    if (dd.blankPenalty !== undefined) decoding.blankPenalty = num(dd, 'blankPenalty', 'decoding.blankPenalty', (x) => x >= -20 && x <= 20, 'a number from -20 to 20');
    if (dd.oovPenalty !== undefined) decoding.oovPenalty = num(dd, 'oovPenalty', 'decoding.oovPenalty', (x) => x >= 0 && x <= 1000, 'a number from 0 to 1000');
  }
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT, version: MANIFEST_VERSION, name,
    modelVersion: m.modelVersion as string, description: m.description as string, license: m.license as string, trainingData: m.trainingData as string,
    frontEnd, encoder: spec, ...(ctcHead ? { ctcHead } : {}), ...(trainableTop ? { trainableTop } : {}), ...(decoding ? { decoding } : {}),
    ...(m.source && typeof m.source === 'object' ? { source: m.source as ModelSource } : {}),
  };
  return Object.freeze(manifest);
}

/** Read and validate `<dir>/model.json`. */
export function loadManifest(dir: string): ModelDir {
  const file = path.join(dir, 'model.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelError(code === 'ENOENT' ? 'not a model directory (no model.json)' : `cannot read model.json (${code})`, dir);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`model.json is not valid JSON (${(err as Error).message})`, file);
  }
  return { dir, manifest: validateManifest(raw, file) };
}
