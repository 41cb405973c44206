/**
 * Adapter folders: adapter.json (format, version, what it was trained for and how, and the sha256
 * of its weights) and weights.bin (little-endian float32 tensors, laid out as adapter.json lists).
 * An ensemble (`train --ensemble K`) holds K members of one shape, their tensors named
 * `member.<k>.<name>`, and is format version 2; a single adapter stays version 1 (readable by
 * toolkits from before ensembles). Written to a temporary folder and renamed; verified on load.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ModelError } from '../errors.js';
import { replaceFolder } from '../io/atomic.js';
import { TOP_TENSORS, topTensorShape, type AdapterMethod, type AdapterWeights, type TopBlock } from './math.js';

/** The ways to hold out a dev set: whole speakers, 15% of each speaker's utterances, or 15% of all utterances. */
export const DEV_SPLITS = ['speakers', 'per-speaker', 'utterances'] as const;
/** How an adapter's dev set was held out of its training data (see DEV_SPLITS). */
export type DevSplit = typeof DEV_SPLITS[number];

export const ADAPTER_FORMAT = 'adapt-asr-adapter';
/** The newest format version this toolkit reads and writes (1: one adapter; 2: an ensemble). */
export const ADAPTER_VERSION = 2;

export interface AdapterMeta {
  format: typeof ADAPTER_FORMAT;
  version: number;
  accent: string;
  method: AdapterMethod;
  base: { name: string; modelVersion: string; encoderSha256: string };
  hyperParameters: Record<string, number | string | boolean>;
  data: { minutes: number; utterances: number; speakers: number; devUtterances: number; devSplit?: DevSplit | 'given'; devSpeakers: string[]; skipped: number; source: string; devSource?: string };
  dev: { baseWer: number; adaptedWer: number; baseCer: number; adaptedCer: number; words: number; /** Paired-bootstrap chance that the dev gain is luck (absent in adapters from before 0.2). */ pValue?: number; accepted: boolean; verdict: string; /** How dev was decoded (absent before 0.3: greedy). */ decoding?: string };
  test?: { baseWer: number; adaptedWer: number; baseCer: number; adaptedCer: number; words: number; source: string };
  /** Epochs and best epoch: of the first member of an ensemble, whose members are listed in `members`. */
  training: { epochs: number; bestEpoch: number; seconds: number; backend: string; members?: MemberRecord[] };
  /**
   * The adapter's own LM weight and word bonus, chosen on its dev data when that is large enough (see
   * train's MIN_TUNE_WORDS), with the dev WER they gave and the model's own settings gave (same beam);
   * decoding with the adapter uses them unless told otherwise. Absent: the model's settings.
   */
  decoding?: { lmWeight: number; wordBonus: number; devWer: number; modelDevWer: number };
  /** Phone models: words of the training transcripts the model's dictionary lacks, with the phones guessed for them (space-separated); decoding adds them to the dictionary. */
  words?: Record<string, string>;
  toolkitVersion: string;
  date: string;
  weights: { file: string; sha256: string; tensors: { name: string; shape: number[]; offset: number }[]; dim: number; vocabSize: number; bottleneck: number; context: number; kernel?: number; /** Ensemble size (absent: 1). */ members?: number };
}

/** One member of an ensemble: its training, and its dev WER against the base model's on the fold it never trained on. */
export interface MemberRecord { seed: number; epochs: number; bestEpoch: number; devUtterances: number; baseWer: number; adaptedWer: number }

const TENSORS: [keyof AdapterWeights, (w: AdapterWeights) => number[]][] = [
  ['lnGain', (w) => [w.dim]], ['lnBias', (w) => [w.dim]], ['downW', (w) => [w.context * w.dim, w.bottleneck]], ['downB', (w) => [w.bottleneck]],
  ['upW', (w) => [w.bottleneck, w.dim]], ['upB', (w) => [w.dim]], ['headW', (w) => [w.dim, w.vocabSize]], ['headB', (w) => [w.vocabSize]],
];

/** The weights part of adapter.json (sizes and tensor table), without the file name and checksum. */
export function weightsRecord(members: readonly AdapterWeights[], tensors: AdapterMeta['weights']['tensors']): Omit<AdapterMeta['weights'], 'file' | 'sha256'> {
  const w = members[0];
  return { tensors, dim: w.dim, vocabSize: w.vocabSize, bottleneck: w.bottleneck, context: w.context, ...(w.kernel ? { kernel: w.kernel } : {}), ...(members.length > 1 ? { members: members.length } : {}) };
}

/** Serialise an adapter's members (one, or an ensemble's K): the blob and its tensor table. */
export function packWeights(members: readonly AdapterWeights[]): { blob: Buffer; tensors: AdapterMeta['weights']['tensors'] } {
  const parts: Buffer[] = [];
  const tensors: AdapterMeta['weights']['tensors'] = [];
  let offset = 0;
  members.forEach((w, m) => {
    const prefix = members.length > 1 ? `member.${m}.` : '';
    const add = (name: string, t: Float32Array, shape: number[]): void => {
      const b = Buffer.alloc(t.length * 4);
      for (let i = 0; i < t.length; i++) b.writeFloatLE(t[i], 4 * i);
      parts.push(b);
      tensors.push({ name: prefix + name, shape, offset });
      offset += b.length;
    };
    w.top?.forEach((blk, i) => {
      for (const k of TOP_TENSORS) add(`top.${i}.${k}`, blk[k], topTensorShape(k, w.dim, w.kernel!));
    });
    for (const [name, shape] of TENSORS) {
      const t = w[name] as Float32Array | undefined;
      if (t) add(name, t, shape(w));
    }
  });
  return { blob: Buffer.concat(parts), tensors };
}

/** The members (one, or an ensemble's K) of an adapter's weights file. */
export function unpackWeights(blob: Buffer, meta: AdapterMeta, file: string): AdapterWeights[] {
  const m = meta.weights;
  const K = m.members ?? 1;
  if (!(Number.isInteger(K) && K >= 1 && K <= MAX_MEMBERS)) throw new ModelError(`adapter.json says ${JSON.stringify(m.members)} members (1 to ${MAX_MEMBERS})`, file);
  const members = Array.from({ length: K }, () => ({ method: meta.method, dim: m.dim, vocabSize: m.vocabSize, bottleneck: m.bottleneck, context: m.context, ...(m.kernel ? { kernel: m.kernel } : {}) } as AdapterWeights));
  for (const t of m.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.offset + 4 * n > blob.length) throw new ModelError(`weights.bin is shorter than adapter.json says (tensor ${t.name})`, file);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = blob.readFloatLE(t.offset + 4 * i);
    const mem = K > 1 ? /^member\.(\d+)\.(.+)$/.exec(t.name) : null;
    if (K > 1 && (!mem || Number(mem[1]) >= K)) throw new ModelError(`tensor ${t.name} belongs to no member of the ${K}`, file);
    const w = members[mem ? Number(mem[1]) : 0], name = mem ? mem[2] : t.name;
    const top = /^top\.(\d+)\.(\w+)$/.exec(name);
    if (top) {
      w.top ??= [];
      const i = Number(top[1]);
      w.top[i] ??= {} as TopBlock;
      w.top[i][top[2] as keyof TopBlock] = a;
    } else {
      (w as unknown as Record<string, Float32Array>)[name] = a;
    }
  }
  for (const w of members) {
    const topOk = !!w.kernel && !!w.top?.length && w.top.every((b) => b && TOP_TENSORS.every((k) => b[k]));
    if (!w.headW || !w.headB || (w.method === 'adapter' && !(w.downW && w.upW && w.lnGain)) || (w.method === 'top' && !topOk)) throw new ModelError('weights.bin lacks tensors the method needs', file);
  }
  return members;
}

/** Most members of an ensemble. */
export const MAX_MEMBERS = 8;

/** Write an adapter folder atomically (replacing `dir` only when `force`); members: one adapter, or an ensemble's. */
export function saveAdapter(dir: string, meta: Omit<AdapterMeta, 'weights' | 'version'>, members: readonly AdapterWeights[], force: boolean, extraFiles: Record<string, Buffer> = {}): AdapterMeta {
  const { blob, tensors } = packWeights(members);
  const full: AdapterMeta = {
    ...meta,
    version: members.length > 1 ? 2 : 1,
    weights: { file: 'weights.bin', sha256: crypto.createHash('sha256').update(blob).digest('hex'), ...weightsRecord(members, tensors) },
  };
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.writing-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  try {
    fs.writeFileSync(path.join(tmp, 'weights.bin'), blob);
    for (const [name, data] of Object.entries(extraFiles)) fs.writeFileSync(path.join(tmp, name), data);
    fs.writeFileSync(path.join(tmp, 'adapter.json'), JSON.stringify(full, null, 2) + '\n');
    if (fs.existsSync(dir) && !force) throw new ModelError('an adapter already exists here; use --force to replace it', dir);
    replaceFolder(tmp, dir); // recoverAdapter() knows the name it moves the old one to
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return full;
}

/**
 * Replacing an adapter is two renames (old aside, new in place). A process killed between them
 * leaves the old adapter under its hidden name: put it back. Leftover temporary folders go.
 */
export function recoverAdapter(dir: string): void {
  const parent = path.dirname(path.resolve(dir)), base = path.basename(dir);
  if (!fs.existsSync(parent)) return;
  for (const f of fs.readdirSync(parent)) {
    if (!f.startsWith(`.${base}.writing-`)) continue;
    const p = path.join(parent, f);
    if (f.endsWith('.old') && !fs.existsSync(dir)) fs.renameSync(p, dir);
    else fs.rmSync(p, { recursive: true, force: true });
  }
}

/** Load and verify an adapter folder: its record and its members (one, or an ensemble's). */
export function loadAdapter(dir: string): { meta: AdapterMeta; weights: AdapterWeights[] } {
  recoverAdapter(dir);
  const file = path.join(dir, 'adapter.json');
  let meta: AdapterMeta;
  try {
    meta = JSON.parse(fs.readFileSync(file, 'utf8')) as AdapterMeta;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelError(code === 'ENOENT' ? 'not an adapter folder (no adapter.json)' : `adapter.json is unreadable or not JSON`, code === 'ENOENT' ? dir : file);
  }
  if (meta?.format !== ADAPTER_FORMAT) throw new ModelError(`not an adapt-asr adapter (format ${JSON.stringify(meta?.format)})`, file);
  if (!(Number.isInteger(meta.version) && meta.version >= 1 && meta.version <= ADAPTER_VERSION)) throw new ModelError(`adapter format version ${meta.version} is not supported (this adapt-asr reads versions 1 to ${ADAPTER_VERSION}); retrain the adapter`, file);
  const dec = meta.decoding;
  if (dec !== undefined && !(typeof dec === 'object' && dec !== null && typeof dec.lmWeight === 'number' && dec.lmWeight >= 0 && dec.lmWeight <= 10 && typeof dec.wordBonus === 'number' && Math.abs(dec.wordBonus) <= 20)) {
    throw new ModelError('adapter.json "decoding" should hold lmWeight (0-10) and wordBonus (-20 to 20)', file);
  }
  if (meta.words !== undefined && (typeof meta.words !== 'object' || meta.words === null || Object.values(meta.words).some((p) => typeof p !== 'string' || !p.trim()))) {
    throw new ModelError('adapter.json "words" should map each word to its phones (a non-empty string)', file);
  }
  const wfile = path.join(dir, meta.weights?.file ?? 'weights.bin');
  let blob: Buffer;
  try {
    blob = fs.readFileSync(wfile);
  } catch {
    throw new ModelError('weights file is missing; retrain the adapter', wfile);
  }
  const sha = crypto.createHash('sha256').update(blob).digest('hex');
  if (sha !== meta.weights.sha256) throw new ModelError('weights checksum does not match adapter.json: the file is corrupt or truncated; retrain the adapter or restore it', wfile);
  return { meta, weights: unpackWeights(blob, meta, wfile) };
}
