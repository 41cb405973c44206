/**
 * `adapt-asr export`: a base model with an adapter (or an ensemble, or none) as one folder that any
 * ONNX runtime can use:
 *
 *   model.onnx     features (1, T, F) -> log_probs (1, frames, V): encoder, adapter and head (graph.ts)
 *   export.json    front end, frame shift, blank, vocabulary, files and decoding settings
 *   tokens.txt     "<symbol> <id>" per line (the word separator ' ' written as <space>)
 *   pronunciations, g2p rules, added-words.txt (a phone model's lexicon), lm.arpa.gz
 *   model.json     so that adapt-asr itself loads the folder: `transcribe --model <folder>`
 *
 * The front end (log-mel or MFCC of a preset, then the normalisation export.json names) stays out
 * of the graph: every preset is computed by lib/features, in Node and in the browser alike.
 * Written to a temporary folder and renamed into place.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadAdapter, type AdapterMeta } from '../adapter/io.js';
import type { AdapterWeights } from '../adapter/math.js';
import { CtcHead } from '../decode/ctc-head.js';
import { Encoder } from '../encoder/encoder.js';
import { DEFAULT_MODEL, resolveModel } from '../encoder/registry.js';
import type { ModelDir, ModelManifest } from '../encoder/manifest.js';
import { ModelError, UsageError } from '../errors.js';
import { replaceFolder } from '../io/atomic.js';
import { PRESETS } from '../features/presets.js';
import { toolkitVersion } from '../version.js';
import { buildExportGraph, LOG_PROBS, sherpaCtcGraph } from './graph.js';
import { checkAdapterFits } from '../adapter/fit.js';

export const EXPORT_FORMAT = 'adapt-asr-export';
export const EXPORT_VERSION = 1;
/** How tokens.txt writes the word separator ' ' (a token cannot be blank there). */
export const SPACE_TOKEN = '<space>';

/** export.json: everything another runtime needs besides the files it names. */
export interface ExportInfo {
  format: typeof EXPORT_FORMAT;
  version: number;
  toolkitVersion: string;
  date: string;
  model: { name: string; modelVersion: string; encoderSha256: string };
  adapter: { accent: string; method: string; members: number; accepted: boolean; verdict: string; sha256: string } | null;
  graph: { file: string; sha256: string; input: { name: string; layout: string; dims: (number | string)[] }; output: { name: string; dims: (number | string)[] } };
  /** The features the graph takes: a lib/features preset (its full configuration given) and the normalisation to apply first. */
  frontEnd: ModelManifest['frontEnd'] & { sampleRate: number; config?: object };
  /** Seconds between output frames. */
  frameShift: number;
  /** Longest piece to run at once and the overlap to discard at inner edges, in seconds (as adapt-asr runs it). */
  chunkSeconds?: number;
  contextSeconds?: number;
  blank: number;
  vocabulary: string[];
  tokens: string;
  lexicon: { pronunciations: string; g2p?: string; addedWords?: string } | null;
  lm: string | null;
  decoding: NonNullable<ModelManifest['decoding']>;
  /** The same graph in sherpa-onnx's offline CTC layout (models whose front end is Kaldi fbank), else null. */
  sherpaOnnx: { dir: string; model: string; tokens: string; modelConfig: 'zipformerCtc'; featureDim: number } | null;
}

/** Options of exportModel: which adapter and model, and the folder to write. */
export interface ExportOptions {
  /** The adapter folder (absent: the base model alone). */
  adapter?: string;
  /** Model name or folder (default: the adapter's base, else DEFAULT_MODEL). */
  model?: string;
  modelsDir?: string;
  /** The folder to write; replaced only when it holds an earlier export. */
  out: string;
}

const sha256 = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');

/** Export a model (with an adapter) to `options.out`; returns what export.json says. */
export function exportModel(options: ExportOptions): ExportInfo {
  const adapter = options.adapter !== undefined ? loadAdapter(options.adapter) : undefined;
  const md: ModelDir = resolveModel(options.model ?? adapter?.meta.base.name ?? DEFAULT_MODEL, options.modelsDir);
  const m = md.manifest, h = m.ctcHead;
  if (m.encoder.output.type === 'logprobs') throw new ModelError(`model '${m.name}' is already an export; export its source model`, md.dir);
  if (!h) throw new ModelError(`model '${m.name}' has no CTC head to export`, md.dir);
  if (adapter) checkAdapterFits(md, adapter.meta, adapter.weights, options.adapter);
  const members: readonly AdapterWeights[] = adapter?.weights ?? [];
  const head = CtcHead.load(md.dir, h.weights!, h.bias!, m.encoder.hiddenSize, h.vocab.length);
  const from = members[0]?.method === 'top' ? m.trainableTop!.output : m.encoder.output.name;
  const encoderFile = Encoder.verify(md);
  const graph = buildExportGraph(fs.readFileSync(encoderFile), { from, members, headW: head.weight, headB: head.bias, dim: m.encoder.hiddenSize, vocabSize: h.vocab.length }, encoderFile);

  const out = path.resolve(options.out);
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new UsageError(`--out must be a folder, but ${options.out} is a file`);
    if (fs.readdirSync(out).length > 0 && !fs.existsSync(path.join(out, 'export.json'))) throw new UsageError(`--out ${options.out} is a folder that holds other files; name a new folder`);
  }
  const parent = path.dirname(out);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(out)}.exporting-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  try {
    const info = writeExport(tmp, md, adapter, graph);
    replaceFolder(tmp, out);
    return info;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The files of an export, into the empty folder `dir`. */
function writeExport(dir: string, md: ModelDir, adapter: { meta: AdapterMeta; weights: AdapterWeights[] } | undefined, graph: Uint8Array): ExportInfo {
  const m = md.manifest, h = m.ctcHead!, a = adapter?.meta;
  const write = (name: string, data: string | Uint8Array): void => fs.writeFileSync(path.join(dir, name), data);
  const copy = (name: string): void => fs.copyFileSync(path.join(md.dir, name), path.join(dir, path.basename(name)));
  write('model.onnx', graph);
  write('tokens.txt', h.vocab.map((s, i) => `${s === ' ' ? SPACE_TOKEN : s} ${i}\n`).join(''));
  let lexicon: ExportInfo['lexicon'] = null;
  if (h.pronunciations) {
    copy(h.pronunciations);
    if (h.g2p) copy(h.g2p);
    lexicon = { pronunciations: path.basename(h.pronunciations), ...(h.g2p ? { g2p: path.basename(h.g2p) } : {}) };
    const words = Object.entries(a?.words ?? {});
    if (words.length) {
      write('added-words.txt', `# words of the adapter's training transcripts that the dictionary lacks, with guessed phones\n${words.map(([w, p]) => `${w} ${p}\n`).join('')}`);
      lexicon.addedWords = 'added-words.txt';
    }
  }
  const hasLm = fs.existsSync(path.join(md.dir, 'lm.arpa.gz'));
  if (hasLm) copy('lm.arpa.gz');
  // The adapter's own LM weight and word bonus (chosen on its dev data) over the model's, as transcribe does.
  const decoding = { ...(m.decoding ?? {}), ...(a?.decoding ? { lmWeight: a.decoding.lmWeight, wordBonus: a.decoding.wordBonus } : {}) };
  const V = h.vocab.length;
  const F = m.frontEnd.type === 'features' ? PRESETS[m.frontEnd.preset].cepstra ?? PRESETS[m.frontEnd.preset].nMels : 1;
  const inputDims = m.encoder.input.layout === 'BTF' ? [1, 'frames', F] : m.encoder.input.layout === 'BFT' ? [1, F, 'frames'] : [1, 'samples'];
  const info: ExportInfo = {
    format: EXPORT_FORMAT, version: EXPORT_VERSION, toolkitVersion: toolkitVersion(), date: new Date().toISOString(),
    model: { name: m.name, modelVersion: m.modelVersion, encoderSha256: m.encoder.sha256 },
    adapter: a ? { accent: a.accent, method: a.method, members: adapter!.weights.length, accepted: a.dev.accepted, verdict: a.dev.verdict, sha256: a.weights.sha256 } : null,
    graph: { file: 'model.onnx', sha256: sha256(graph), input: { name: m.encoder.input.name, layout: m.encoder.input.layout, dims: inputDims }, output: { name: LOG_PROBS, dims: [1, 'frames', V] } },
    frontEnd: { ...m.frontEnd, sampleRate: 16000, ...(m.frontEnd.type === 'features' ? { config: PRESETS[m.frontEnd.preset] } : {}) },
    frameShift: m.encoder.frameShift,
    ...(m.encoder.chunkSeconds !== undefined ? { chunkSeconds: m.encoder.chunkSeconds } : {}),
    ...(m.encoder.contextSeconds !== undefined ? { contextSeconds: m.encoder.contextSeconds } : {}),
    blank: h.blank, vocabulary: [...h.vocab], tokens: 'tokens.txt', lexicon, lm: hasLm ? 'lm.arpa.gz' : null, decoding, sherpaOnnx: null,
  };
  info.sherpaOnnx = writeSherpa(dir, m, graph, info);
  write('export.json', JSON.stringify(info, null, 2) + '\n');
  const manifest: ModelManifest = {
    format: m.format, version: m.version,
    name: a ? `${m.name}-${a.accent}`.replace(/[^A-Za-z0-9._-]/g, '-') : m.name,
    modelVersion: m.modelVersion,
    description: `${m.name} ${m.modelVersion}${a ? ` with the '${a.accent}' adapter (${a.method}${adapter!.weights.length > 1 ? `, ensemble of ${adapter!.weights.length}` : ''}; ${a.dev.verdict})` : ''}, exported by adapt-asr ${toolkitVersion()}`,
    license: m.license, trainingData: m.trainingData, frontEnd: m.frontEnd,
    encoder: { ...m.encoder, file: 'model.onnx', sha256: sha256(graph), output: { name: LOG_PROBS, layout: 'BTD', type: 'logprobs' }, hiddenSize: V },
    ctcHead: {
      vocab: [...h.vocab], blank: h.blank,
      ...(lexicon ? { pronunciations: lexicon.pronunciations, ...(lexicon.g2p ? { g2p: lexicon.g2p } : {}), ...(lexicon.addedWords ? { addedWords: lexicon.addedWords } : {}) } : {}),
    },
    ...(Object.keys(decoding).length ? { decoding } : {}),
  };
  write('model.json', JSON.stringify(manifest, null, 2) + '\n');
  return info;
}

/**
 * sherpa-onnx's layout for an offline CTC model, beside the export: sherpa-onnx/model.onnx (inputs x
 * and x_lens, outputs log_probs and log_probs_len; see sherpaCtcGraph) and its tokens.txt, with the
 * word separator written as sherpa-onnx's "▁". Only for a Kaldi-fbank front end (sherpa-onnx computes
 * its own fbank) whose frames are 10 ms apart at the input; null otherwise.
 */
function writeSherpa(dir: string, m: ModelManifest, graph: Uint8Array, info: ExportInfo): ExportInfo['sherpaOnnx'] {
  const fe = m.frontEnd;
  if (m.encoder.kind !== 'features' || fe.type !== 'features' || fe.preset !== 'kaldi-fbank-80' || m.encoder.input.layout !== 'BTF') return null;
  if (fe.normalization.type !== 'utterance' && fe.normalization.type !== 'none') return null;
  const factor = Math.round(m.encoder.frameShift / 0.01);
  const out = path.join(dir, 'sherpa-onnx');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'model.onnx'), sherpaCtcGraph(graph, m.encoder.input.name, fe.normalization.type, {
    model_type: 'adapt-asr-ctc', vocab_size: String(info.vocabulary.length), subsampling_factor: String(factor), blank_id: String(info.blank),
    normalization: `${fe.normalization.type} (in the graph)`, front_end: 'kaldi-fbank-80: 80 bins, 20-8000 Hz', comment: `exported by adapt-asr ${toolkitVersion()} from ${m.name} ${m.modelVersion}`,
  }));
  fs.writeFileSync(path.join(out, 'tokens.txt'), info.vocabulary.map((s, i) => `${s === ' ' ? '\u2581' : s} ${i}\n`).join(''));
  return { dir: 'sherpa-onnx', model: 'model.onnx', tokens: 'tokens.txt', modelConfig: 'zipformerCtc', featureDim: 80 };
}
