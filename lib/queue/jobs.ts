/**
 * What a job carries, checked on arrival: a worker trusts nothing it reads from Redis. Every path in
 * a job is absolute (a shared file system mounted at the same place on every machine is assumed)
 * and must lie under one of the roots the worker was started with; anything else fails the job.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OutputFormat } from '../pipeline/captions.js';

/** Format version of job data; a worker refuses versions it does not know. */
export const JOB_VERSION = 1;

export const FORMATS: readonly OutputFormat[] = ['text', 'json', 'srt', 'vtt'];
export const EXTENSIONS: Record<OutputFormat, string> = { text: 'txt', json: 'json', srt: 'srt', vtt: 'vtt' };

/** Decoding options a batch carries (those of transcribe; the LM as an absolute path, hotwords read). */
export interface JobDecode {
  beam?: number; lmWeight?: number; wordBonus?: number; oovPenalty?: number; blankPenalty?: number; lexicon?: boolean; useLm?: boolean; lm?: string;
  hotwords?: { phrase: string; boost: number; symbols?: string[] }[];
}

/** One audio file of a batch. */
export interface TranscribeJobData {
  v: number;
  batch: string;
  /** Index in the batch. */
  n: number;
  audio: string;
  /** The result file. */
  out: string;
  format: OutputFormat;
  model?: string;
  adapter?: string;
  decode?: JobDecode;
}

/** The options of `train` a job may carry (paths absolute; `out` required). */
export interface TrainJobOptions {
  accent: string; out: string; data?: string; devData?: string; model?: string; method?: 'adapter' | 'head' | 'top';
  minutes?: number; epochs?: number; seed?: number; ensemble?: number; patience?: number; bottleneck?: number; context?: number;
  lr?: number; headLr?: number; kld?: number; speeds?: number[]; devSplit?: 'auto' | 'speakers' | 'per-speaker' | 'utterances';
  devDecoding?: 'default' | 'greedy'; force?: boolean;
}

export interface TrainJobData { v: number; options: TrainJobOptions }

/** What a train job reports as its progress. */
export interface TrainProgress { phase: 'encoding' | 'epochs'; done?: number; total?: number; epoch?: number; member?: number; devWer?: number; resumedFrom?: number }

/** Thrown for a job that can never succeed (bad data, a path outside the roots): no retries. */
export class BadJobError extends Error {}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (o: Record<string, unknown>, k: string, optional = false): string | undefined => {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > 4096 || v.includes('\0')) throw new BadJobError(`job field '${k}' must be a non-empty string`);
  return v;
};
const absolute = (o: Record<string, unknown>, k: string, optional = false): string | undefined => {
  const v = str(o, k, optional);
  if (v !== undefined && !path.isAbsolute(v)) throw new BadJobError(`job field '${k}' must be an absolute path, got '${v}'`);
  return v;
};

export function parseTranscribeJob(d: unknown): TranscribeJobData {
  if (!isObj(d)) throw new BadJobError('job data is not an object');
  if (d.v !== JOB_VERSION) throw new BadJobError(`job format version ${String(d.v)} is not ${JOB_VERSION}; update the worker or the submitter`);
  const format = d.format as OutputFormat;
  if (!FORMATS.includes(format)) throw new BadJobError(`job field 'format' must be one of ${FORMATS.join(', ')}`);
  if (!Number.isInteger(d.n) || (d.n as number) < 0) throw new BadJobError("job field 'n' must be a whole number");
  const out: TranscribeJobData = { v: JOB_VERSION, batch: str(d, 'batch')!, n: d.n as number, audio: absolute(d, 'audio')!, out: absolute(d, 'out')!, format, model: str(d, 'model', true), adapter: absolute(d, 'adapter', true) };
  if (d.decode !== undefined) out.decode = parseDecode(d.decode);
  return out;
}

function parseDecode(x: unknown): JobDecode {
  if (!isObj(x)) throw new BadJobError("job field 'decode' is not an object");
  const out: JobDecode = {};
  for (const [k, v] of Object.entries(x)) {
    if (['beam', 'lmWeight', 'wordBonus', 'oovPenalty', 'blankPenalty'].includes(k)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadJobError(`decoding option '${k}' must be a number`);
      (out as Record<string, unknown>)[k] = v;
    } else if (k === 'lexicon' || k === 'useLm') {
      if (typeof v !== 'boolean') throw new BadJobError(`decoding option '${k}' must be true or false`);
      out[k] = v;
    } else if (k === 'lm') {
      out.lm = absolute(x, 'lm');
    } else if (k === 'hotwords') {
      const ok = Array.isArray(v) && v.length <= 10000 && v.every((h) => isObj(h) && typeof h.phrase === 'string' && h.phrase.length <= 200 && typeof h.boost === 'number' && Number.isFinite(h.boost)
        && (h.symbols === undefined || (Array.isArray(h.symbols) && h.symbols.length <= 200 && h.symbols.every((p) => typeof p === 'string'))));
      if (!ok) throw new BadJobError("decoding option 'hotwords' must be a list of { phrase, boost, symbols? } (at most 10,000)");
      out.hotwords = (v as JobDecode['hotwords'])!.map((h) => ({ phrase: h.phrase, boost: h.boost, ...(h.symbols ? { symbols: h.symbols } : {}) }));
    } else {
      throw new BadJobError(`'${k}' is not a decoding option`);
    }
  }
  return out;
}

const NUMBERS = ['minutes', 'epochs', 'seed', 'ensemble', 'patience', 'bottleneck', 'context', 'lr', 'headLr', 'kld'] as const;

export function parseTrainJob(d: unknown): TrainJobData {
  if (!isObj(d) || !isObj(d.options)) throw new BadJobError('job data is not an object with options');
  if (d.v !== JOB_VERSION) throw new BadJobError(`job format version ${String(d.v)} is not ${JOB_VERSION}; update the worker or the submitter`);
  const o = d.options;
  const known = new Set<string>(['accent', 'out', 'data', 'devData', 'model', 'method', 'speeds', 'devSplit', 'devDecoding', 'force', ...NUMBERS]);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new BadJobError(`job option '${k}' is not a train option`);
  const out: TrainJobOptions = { accent: str(o, 'accent')!, out: absolute(o, 'out')!, data: absolute(o, 'data', true), devData: absolute(o, 'devData', true), model: str(o, 'model', true) };
  if (!/^[\w.-]+$/.test(out.accent)) throw new BadJobError(`accent '${out.accent}' may hold only letters, digits, '.', '_' and '-'`);
  for (const k of NUMBERS) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new BadJobError(`job option '${k}' must be a number`);
    out[k] = o[k] as number;
  }
  if (o.speeds !== undefined) {
    if (!Array.isArray(o.speeds) || !o.speeds.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new BadJobError("job option 'speeds' must be a list of numbers");
    out.speeds = o.speeds as number[];
  }
  for (const [k, allowed] of [['method', ['adapter', 'head', 'top']], ['devSplit', ['auto', 'speakers', 'per-speaker', 'utterances']], ['devDecoding', ['default', 'greedy']]] as const) {
    if (o[k] === undefined) continue;
    if (!(allowed as readonly unknown[]).includes(o[k])) throw new BadJobError(`job option '${k}' must be one of ${allowed.join(', ')}`);
    (out as unknown as Record<string, unknown>)[k] = o[k];
  }
  if (o.force !== undefined) out.force = o.force === true;
  return { v: JOB_VERSION, options: out };
}

/** Real path of `p`, or of its nearest existing ancestor joined with the rest (for files not yet written). */
function realish(p: string): string {
  const rest: string[] = [];
  let cur = path.resolve(p);
  for (;;) {
    try {
      return path.join(fs.realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return path.join(cur, ...rest.reverse());
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

/**
 * The worker's roots, resolved once. `check` returns the path when it lies under one of the named
 * roots (after following symbolic links, so a link cannot lead outside), else throws BadJobError.
 */
export class Roots {
  readonly data: string;
  readonly out: string;
  constructor(dataRoot: string, outRoot: string) {
    this.data = realish(dataRoot);
    this.out = realish(outRoot);
  }

  check(p: string, what: string, which: ('data' | 'out')[]): string {
    const real = realish(p);
    for (const w of which) {
      const rel = path.relative(this[w], real);
      if (rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel))) return p;
    }
    throw new BadJobError(`${what} ${p} is outside ${which.map((w) => `--${w}-root ${this[w]}`).join(' and ')}`);
  }
}
