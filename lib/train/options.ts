/**
 * The trainer's one config object: TrainOptions (every field documented with its default), the
 * measured defaults, and resolveTrainOptions(), which fills the defaults, validates every field in
 * one place and says which flag is wrong.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_SPLITS, MAX_MEMBERS, type DevSplit } from '../adapter/io.js';
import type { AdapterMeta } from '../adapter/io.js';
import type { AdapterMethod } from '../adapter/math.js';
import { ConfigError, UsageError } from '../errors.js';
import type { Skipped } from './data.js';
import type { PhaseTimes } from './phases.js';
import { MIN_TUNE_WORDS } from './dev-score.js';
import { BUNDLED_ACCENT_MODEL, DEFAULT_MODEL } from '../encoder/registry.js';

/** Options of trainAdapter; every field has a default. */
export interface TrainOptions {
  /** Accent name (the adapter's label; selects bundled data when `data` is not given). */
  accent: string;
  /** A folder with transcripts.tsv or a .jsonl manifest (default: bundled audio-fixtures/accents/<accent>/train). */
  data?: string;
  /** Test data scored at the end (default: a `test` folder beside a `train` data folder, if any). */
  testData?: string;
  /** Your own dev set (folder or manifest) for epoch selection and the guard; then all of `data` trains (default: held out from `data`, see devSplit). */
  devData?: string;
  /** Base model name or folder (default: base-en for the bundled accent data, which is synthetic; else DEFAULT_MODEL). */
  model?: string;
  modelsDir?: string;
  /** Output folder (default ./adapters/<accent>). */
  out?: string;
  /** 'adapter' (default): residual bottleneck + base head; 'head': refit the CTC head only. */
  method?: AdapterMethod;
  /** Train on a deterministic subset of about this many minutes. */
  minutes?: number;
  /**
   * Train a CTC head for a model that has none (e.g. an imported Whisper or wav2vec2 encoder) on
   * general data and store it in the model's folder as its base head (method 'head' only).
   */
  asBase?: boolean;
  /** Most epochs (default 40; early stopping usually ends sooner). */
  epochs?: number;
  /** Random seed (default 1): the same seed and data give the same adapter. */
  seed?: number;
  /**
   * Members of an adapter ensemble (default 1: one adapter). With K > 1, the data is dealt into K folds
   * (by speaker, as the dev split is); member k trains on the other K-1 folds, picks its best epoch on
   * fold k, and is judged there, so the guard scores every utterance with a member that never trained
   * on it. The members' posteriors are averaged when decoding. With devData, every member trains on
   * all of `data` with its own seed, and the ensemble itself is judged on devData. Costs about K - 1
   * times the training time of one adapter.
   */
  ensemble?: number;
  resume?: boolean;
  force?: boolean;
  /** Bottleneck size (default 64) and context frames (default 3, odd). */
  bottleneck?: number;
  context?: number;
  /** Learning rates: adapter or top blocks (default DEFAULT_LR by method) and base head (default 3e-4; 0 freezes it). */
  lr?: number;
  headLr?: number;
  weightDecay?: number;
  dropout?: number;
  /** Fraction of frames masked in time and of channels masked, per utterance (default 0.1 each). */
  timeMask?: number;
  featureMask?: number;
  /** Padded frames per batch (default 3000). */
  batchFrames?: number;
  /**
   * Epochs without dev improvement (neither WER nor loss) before stopping (default 6). Replayed on the
   * dev histories of bench/adapt-time's runs (2026-12-07, 14 members): with 6 rather than 8, 13 of 14
   * would have trained the very same adapter, with 12% fewer epochs; with 5, 9 of 14.
   */
  patience?: number;
  /** Relative dev-WER gain required to accept the adapter (default 0.03) and minimum dev words (default 100). */
  acceptMargin?: number;
  minDevWords?: number;
  /** Dev words needed before the adapter's own LM weight and word bonus are chosen (default MIN_TUNE_WORDS). */
  tuneMinWords?: number;
  /** Largest paired-bootstrap p-value (chance that the dev gain is luck) at which an adapter is accepted (default 0.05). */
  acceptP?: number;
  /**
   * Weight (0-1) of KL(base || adapted) per frame in the loss, against the CTC loss (default 0): keeps the
   * adapted model's outputs near the base model's on clean inputs (KL-divergence regularised adaptation).
   */
  kld?: number;
  /**
   * Speed perturbation of the training split: each utterance is also trained on at these speed factors
   * (default 0.9, 1.0, 1.1; [1] turns it off). The dev split is never perturbed.
   */
  speeds?: number[];
  /** Decoding of dev utterances for early stopping and the guard: 'default' = the model's own (beam + LM + lexicon as tuned, when it ships an LM), or 'greedy'. */
  devDecoding?: 'default' | 'greedy';
  /** How the dev set is held out: 'auto' (default: whole speakers from MIN_DEV_SPEAKERS up, else each speaker's share), or one of DevSplit. */
  devSplit?: 'auto' | DevSplit;
  /** Cores to use: encoding worker threads and gradient shards (default: all cores; at most 4 shards). */
  threads?: number;
  /** Keep and reuse encoder outputs in the encoding cache (default true; see lib/encoder/cache.ts). */
  cache?: boolean;
  /** Progress per epoch and phase messages. */
  onEpoch?: (e: EpochReport) => void;
  onLog?: (line: string) => void;
  onEncodeProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * One epoch: losses, dev scores, and times (trainSec: gradient steps only; elapsedSec: the whole run so far;
 * etaSec: to the end of the run at most). In an ensemble, `member` (from 0) says whose epoch it was.
 */
export interface EpochReport { epoch: number; member?: number; trainLoss: number; devLoss: number; devWer: number; devCer: number; trainSec: number; elapsedSec: number; etaSec: number }

/** What trainAdapter returns: the adapter folder, its adapter.json, the epochs run and the utterances skipped. */
export interface TrainResult {
  out: string;
  meta: AdapterMeta;
  history: EpochReport[];
  skipped: Skipped[];
  /** Seconds per phase of this run (reading, encoding per speed, baseline, train steps, dev scoring, guard, write). */
  phases: PhaseTimes;
}

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Accents with bundled training data. */
export function bundledAccents(): string[] {
  const dir = path.join(PACKAGE_ROOT, 'audio-fixtures', 'accents');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, 'train', 'transcripts.tsv'))).sort() : [];
}

/** TrainOptions after resolveTrainOptions(): every default filled in. */
export type Resolved = Required<Omit<TrainOptions, 'testData' | 'devData' | 'modelsDir' | 'minutes' | 'threads' | 'onEpoch' | 'onLog' | 'onEncodeProgress' | 'signal' | 'asBase' | 'cache'>> & { cache: boolean } & Pick<TrainOptions, 'testData' | 'devData' | 'modelsDir' | 'minutes' | 'threads' | 'asBase'>;

/** TrainOptions with defaults filled in and every field checked (ConfigError or UsageError naming the flag). */
export function resolveTrainOptions(o: TrainOptions): Resolved {
  if (!o.accent || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(o.accent)) throw new ConfigError(`accent must be a name of letters, digits, '.', '_' or '-', got ${JSON.stringify(o.accent)}`);
  let data = o.data;
  let testData = o.testData;
  const bundled = !data;
  if (!data) {
    const dir = path.join(PACKAGE_ROOT, 'audio-fixtures', 'accents', o.accent, 'train');
    if (!fs.existsSync(dir)) {
      const known = bundledAccents();
      throw new UsageError(`no bundled data for accent '${o.accent}' (bundled: ${known.join(', ') || 'none'}); give your recordings with --data <folder|manifest.jsonl>`);
    }
    data = dir;
  }
  if (!testData && path.basename(path.resolve(data)) === 'train') {
    const t = path.join(path.dirname(path.resolve(data)), 'test');
    if (fs.existsSync(path.join(t, 'transcripts.tsv'))) testData = t;
  }
  const r: Resolved = {
    accent: o.accent, data, testData, devData: o.devData, model: o.model ?? (bundled ? BUNDLED_ACCENT_MODEL : DEFAULT_MODEL), modelsDir: o.modelsDir, out: o.out ?? path.join('adapters', o.accent),
    method: o.method ?? 'adapter', minutes: o.minutes, epochs: o.epochs ?? 40, seed: o.seed ?? 1, ensemble: o.ensemble ?? 1, resume: o.resume ?? false, force: o.force ?? false,
    bottleneck: o.bottleneck ?? 64, context: o.context ?? 3, lr: o.lr ?? DEFAULT_LR[o.method ?? 'adapter'], headLr: o.headLr ?? 3e-4, weightDecay: o.weightDecay ?? 0.01,
    dropout: o.dropout ?? 0.1, timeMask: o.timeMask ?? 0.1, featureMask: o.featureMask ?? 0.1, batchFrames: o.batchFrames ?? 3000,
    patience: o.patience ?? 6, acceptMargin: o.acceptMargin ?? 0.03, acceptP: o.acceptP ?? 0.05, minDevWords: o.minDevWords ?? 100, tuneMinWords: o.tuneMinWords ?? MIN_TUNE_WORDS, devDecoding: o.devDecoding ?? 'default', devSplit: o.devSplit ?? 'auto', kld: o.kld ?? 0, speeds: Array.isArray(o.speeds) ? [...new Set(o.speeds)] : o.speeds ?? [...DEFAULT_SPEEDS], threads: o.threads, asBase: o.asBase, cache: o.cache ?? true,
  };
  if (r.asBase && o.method !== 'head') throw new UsageError('--as-base trains a base CTC head: use it with --method head');
  if (r.asBase && o.lr === undefined) r.lr = 1e-2; // a head from scratch learns faster than an adapter
  const bad = (f: string, want: string): never => { throw new ConfigError(`train: ${f} must be ${want}, got ${JSON.stringify((r as Record<string, unknown>)[f])}`); };
  if (r.method !== 'adapter' && r.method !== 'head' && r.method !== 'top') bad('method', "'adapter', 'head' or 'top'");
  if (r.minutes !== undefined && !(r.minutes > 0)) bad('minutes', 'a positive number');
  if (!(Number.isInteger(r.epochs) && r.epochs >= 1 && r.epochs <= 1000)) bad('epochs', 'an integer from 1 to 1000');
  if (!Number.isInteger(r.seed)) bad('seed', 'an integer');
  if (!(Number.isInteger(r.patience) && r.patience >= 1 && r.patience <= 1000)) bad('patience', 'an integer from 1 to 1000');
  if (!(Number.isInteger(r.ensemble) && r.ensemble >= 1 && r.ensemble <= MAX_MEMBERS)) bad('ensemble', `an integer from 1 to ${MAX_MEMBERS}`);
  if (r.asBase && r.ensemble > 1) throw new UsageError('--as-base trains one base head: leave out --ensemble');
  if (!(Number.isInteger(r.bottleneck) && r.bottleneck >= 1 && r.bottleneck <= 4096)) bad('bottleneck', 'an integer from 1 to 4096');
  if (!(Number.isInteger(r.context) && r.context >= 1 && r.context % 2 === 1 && r.context <= 15)) bad('context', 'an odd integer from 1 to 15');
  for (const f of ['lr', 'headLr', 'weightDecay', 'dropout', 'timeMask', 'featureMask', 'acceptMargin', 'acceptP'] as const) if (!(r[f] >= 0 && r[f] < (f.endsWith('r') ? 1 : 10))) bad(f, 'a non-negative number');
  if (!(r.lr > 0)) bad('lr', 'positive');
  if (!(r.kld >= 0 && r.kld <= 1)) bad('kld', 'a number from 0 to 1');
  if (!(Array.isArray(r.speeds) && r.speeds.length >= 1 && r.speeds.every((f) => f >= 0.5 && f <= 2))) bad('speeds', 'a list of factors from 0.5 to 2');
  if (r.devDecoding !== 'default' && r.devDecoding !== 'greedy') bad('devDecoding', "'default' or 'greedy'");
  if (r.devSplit !== 'auto' && !DEV_SPLITS.includes(r.devSplit)) bad('devSplit', "'auto', 'speakers', 'per-speaker' or 'utterances'");
  if (r.threads !== undefined && !(Number.isInteger(r.threads) && r.threads >= 1 && r.threads <= 256)) bad('threads', 'an integer from 1 to 256');
  if (r.devData && r.devSplit !== 'auto') throw new UsageError('--dev-data gives the dev set; --dev-split chooses how to hold one out of --data: use one of them');
  return r;
}

/**
 * Speed perturbation by default (the factors of Kaldi's recipes). Measured on base-en 2.1.0, adapter,
 * against none: Scottish test WER 25.6% against 27.5% (mean of seeds 1-5), zh-L1 10 min 76.3% against
 * 79.0%, 20 min 76.4% both; training takes about twice as long. (Tried with it on 2.1.0: learning
 * rate 1e-3, 25.8%, no different then, the default since: see DEFAULT_LR; bottleneck 256, 27.3% on seeds 1-3.)
 */
export const DEFAULT_SPEEDS: readonly number[] = [0.9, 1, 1.1];

/**
 * Learning rate by method. The adapter's 1e-3 (was 3e-3) measured on base-en 2.2.0, bundled Scottish
 * data, a dev set of 15% of each voice, seeds 1-4: test WER 25.2 / 25.4 / 24.3 / 25.2% against 25.7 /
 * 25.0 / 23.5 / 25.4% at 3e-3; the same mean, but every run accepted by the guard (3e-3: seed 3
 * rejected) and best epochs 7-14 rather than 4-9, so epoch selection is less of a coin toss. (With the
 * whole-voice dev set of before: 26.1% against 27.6%.)
 */
export const DEFAULT_LR: Readonly<Record<AdapterMethod, number>> = { adapter: 1e-3, head: 3e-3, top: 5e-4 };

