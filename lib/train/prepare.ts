/**
 * Phase 1 of training: the base model and the data. Reads the dataset (and a dev set, if given),
 * takes --minutes, encodes every utterance once with the frozen encoder (epochs then cost only
 * the head), holds out the dev set or deals the ensemble's folds, and encodes the training split at
 * the perturbed speeds.
 */
import { readDataset, type Utterance } from '../data/manifest.js';
import type { DevSplit } from '../adapter/io.js';
import { CtcHead } from '../decode/ctc-head.js';
import { Pronunciations } from '../decode/pronunciations.js';
import type { Vocabulary } from '../decode/types.js';
import os from 'node:os';
import { cachedFileEncoder, cacheLimitBytes, cacheRoot, EncodingCache, modelCacheKey } from '../encoder/cache.js';
import { Encoder } from '../encoder/encoder.js';
import { EncoderPool, localFileEncoder, type FileEncoder } from '../encoder/pool.js';
import type { ModelDir, ModelManifest } from '../encoder/manifest.js';
import { resolveModel } from '../encoder/registry.js';
import { loadTopBlocks } from '../encoder/top.js';
import { InputError, ModelError } from '../errors.js';
import { CHAR_VOCAB } from '../text/normalize.js';
import { devSplitProblem, foldSplit, labeler, prepareExamples, rng, speedPerturb, splitDev, subsetMinutes, type Example, type Fold, type Skipped } from './data.js';
import type { Resolved, TrainOptions } from './options.js';
import type { PhaseClock } from './phases.js';

/** The model and the encoded data a run trains on. */
export interface Prepared {
  md: ModelDir;
  spec: ModelManifest;
  vocab: Vocabulary;
  /** Phone models: the pronunciation dictionary (with the guessed words of the transcripts added). */
  pron?: Pronunciations;
  /** Method 'top': the encoder's own top blocks and the output that feeds them. */
  top?: ReturnType<typeof loadTopBlocks>;
  /** The model's CTC head, or a fresh one for --as-base. */
  baseHead: CtcHead;
  examples: Example[];
  skipped: Skipped[];
  /** One fold per member: its training examples (speed-perturbed) and its dev examples. */
  folds: Fold[];
  devSplit: DevSplit | 'given';
  /** Whether the dev set was given (--dev-data) rather than held out of the data. */
  givenDev: boolean;
  /** Transcript words the dictionary lacks, with their guessed phones. */
  guessed: Map<string, string[]>;
  minutes: number;
  nDev: number;
  devSpeakers: string[];
  /** Seconds spent reading and encoding. */
  encodeSec: number;
}

/** Phase 1: resolve the model, read and encode the data, and split it (see the file comment). */
export async function prepareRun(cfg: Resolved, options: TrainOptions, log: (line: string) => void, clock?: PhaseClock): Promise<Prepared> {
  const logSkipped = (prefix: string, skipped: Skipped[]): void => {
    for (const s of skipped) log(`${prefix}skipped ${s.files.length} utterance(s): ${s.reason}: ${s.files.slice(0, 3).join(', ')}${s.files.length > 3 ? ', ...' : ''}`);
  };
  const md = resolveModel(cfg.model, cfg.modelsDir);
  const spec = md.manifest;
  if (spec.encoder.output.type === 'logprobs') throw new ModelError(`model '${spec.name}' is an export (adapt-asr export) and cannot be adapted; adapt the model its export.json names, then export again`, md.dir);
  if (!spec.ctcHead && !cfg.asBase) throw new ModelError(`model '${spec.name}' has no base CTC head to adapt; train one first: adapt-asr train --model ${spec.name} --method head --as-base --data <general English data>`, md.dir);
  if (cfg.asBase && spec.encoder.output.type === 'logits') throw new ModelError(`model '${spec.name}' outputs CTC logits of its own; a base head on top of logits is not supported`, md.dir);
  const vocab = spec.ctcHead ? { symbols: spec.ctcHead.vocab, blank: spec.ctcHead.blank } : { symbols: CHAR_VOCAB, blank: 0 };
  const pron = spec.ctcHead && !cfg.asBase ? Pronunciations.forModel(md.dir, spec.ctcHead) : undefined;
  const top = cfg.method === 'top' ? loadTopBlocks(md) : undefined;
  const baseHead = spec.ctcHead && !cfg.asBase
    ? CtcHead.load(md.dir, spec.ctcHead.weights!, spec.ctcHead.bias!, spec.encoder.hiddenSize, spec.ctcHead.vocab.length)
    : randomHead(spec.encoder.hiddenSize, vocab.symbols.length, cfg.seed);
  let utts: Utterance[] = readDataset(cfg.data).utterances;
  if (utts.length === 0) throw new InputError('dataset has no utterances', cfg.data);
  if (cfg.minutes !== undefined) utts = subsetMinutes(utts, cfg.minutes, cfg.seed);
  const splitProblem = devSplitProblem(utts.map((u) => u.speaker), cfg.devSplit); // before the slow encoding
  if (splitProblem) throw new InputError(splitProblem, cfg.data);
  const devUtts = cfg.devData ? readDataset(cfg.devData).utterances : undefined;
  if (devUtts && devUtts.length === 0) throw new InputError('dev dataset has no utterances', cfg.devData);
  const t0 = performance.now();
  const { encoder, cache } = await fileEncoder(md, cfg);
  clock?.add('load encoder', (performance.now() - t0) / 1000);
  let examples: Example[], skipped: Skipped[], folds: Fold[], devSplit: DevSplit | 'given';
  const K = cfg.ensemble;
  const perturb = cfg.speeds.some((f) => f !== 1);
  try {
    const tEnc = performance.now();
    ({ examples, skipped } = await prepareExamples(utts, encoder, labeler(vocab.symbols, pron), options.onEncodeProgress, options.signal, top?.output));
    logSkipped('', skipped);
    if (examples.length < 2) throw new InputError(`no usable training data: ${examples.length} utterance(s) left after skipping ${skipped.reduce((a, s) => a + s.files.length, 0)}`, cfg.data);
    if (devUtts) {
      const given = await prepareExamples(devUtts, encoder, labeler(vocab.symbols, pron), options.onEncodeProgress, options.signal, top?.output);
      logSkipped('dev: ', given.skipped);
      if (given.examples.length === 0) throw new InputError(`no usable dev data: all ${devUtts.length} utterance(s) skipped`, cfg.devData);
      folds = Array.from({ length: K }, () => ({ train: examples, dev: given.examples, devSpeakers: [] }));
      devSplit = 'given';
    } else {
      try {
        if (K === 1) {
          const one = splitDev(examples, cfg.seed, cfg.devSplit);
          folds = [{ train: one.train, dev: one.dev, devSpeakers: one.devSpeakers }];
          devSplit = one.split;
        } else {
          ({ folds, split: devSplit } = foldSplit(examples, cfg.seed, K, cfg.devSplit));
        }
      } catch (err) {
        throw err instanceof InputError ? new InputError(err.message, cfg.data) : err;
      }
    }
    clock?.add('encode 1.0x', (performance.now() - tEnc) / 1000);
    if (perturb) {
      const tPert = performance.now();
      // Each training utterance at the other speeds (encoded once; the folds of an ensemble share them).
      const trainable = K === 1 || devUtts ? folds[0].train : examples;
      const copies = await speedPerturb(trainable, cfg.speeds, encoder, options.onEncodeProgress, options.signal, top?.output);
      clock?.add(`encode ${cfg.speeds.filter((f) => f !== 1).map((f) => `${f}x`).join(' + ')}`, (performance.now() - tPert) / 1000);
      const source = (c: Example): string => c.id.slice(0, c.id.lastIndexOf('@')); // a copy's id is <id>@<factor>
      for (const f of folds) {
        const ids = new Set(f.train.map((e) => e.id));
        f.train = [...(cfg.speeds.includes(1) ? f.train : []), ...copies.filter((c) => ids.has(source(c)))];
      }
    }
  } finally {
    await encoder.release();
  }
  if (cache) {
    const removed = cache.prune();
    log(`encoding cache: ${cache.hits} of ${cache.hits + cache.misses} encodings found in ${cache.dir}${removed ? `; ${(removed / 2 ** 20).toFixed(0)} MB of the oldest removed to stay within ${(cache.limitBytes / 2 ** 20).toFixed(0)} MB` : ''}`);
  }
  // Transcript words the dictionary lacks were trained on guessed phones; they join the dictionary for
  // dev decoding (base and adapted alike) and are saved with the adapter for decoding with it.
  const guessed = pron?.guessed() ?? new Map<string, string[]>();
  for (const [w, p] of guessed) pron!.add(w, p);
  if (guessed.size) log(`guessed the phones of ${guessed.size} word(s) not in the dictionary: ${[...guessed].slice(0, 4).map(([w, p]) => `${w} /${p.join(' ')}/`).join(', ')}${guessed.size > 4 ? ', ...' : ''}`);
  const minutes = examples.reduce((a, e) => a + e.seconds, 0) / 60;
  const devSpeakers = K === 1 ? folds[0].devSpeakers : [];
  const nDev = devUtts ? folds[0].dev.length : folds.reduce((a, f) => a + f.dev.length, 0);
  const encodeSec = (performance.now() - t0) / 1000;
  const perturbed = perturb ? `; training on speeds ${cfg.speeds.join(', ')} (${folds[0].train.length} utterances${K > 1 && !devUtts ? ' in fold 1' : ''})` : '';
  const devWhat = devSplit === 'speakers' ? (K > 1 ? 'whole speakers' : `speakers ${devSpeakers.join(', ')}`) : devSplit === 'per-speaker' ? 'some of every speaker\'s' : devSplit === 'given' ? `from ${cfg.devData}` : 'drawn at random';
  const devLine = K > 1 && !devUtts ? `${K} folds of ${devWhat}, each a member's dev set (${nDev} utterances in all)` : `${nDev} utterances (${devWhat})`;
  log(`data: ${examples.length} utterances, ${minutes.toFixed(1)} min, ${new Set(examples.map((e) => e.speaker)).size} speaker(s); dev: ${devLine}${perturbed}; encoded in ${encodeSec.toFixed(1)} s`);
  return { md, spec, vocab, pron, top, baseHead, examples, skipped, folds, devSplit, givenDev: !!devUtts, guessed, minutes, nDev, devSpeakers, encodeSec };
}

/**
 * How training encodes its data: on a pool of worker threads (one per core, or --threads) or in
 * this thread on one core, behind the encoding cache unless it is off (--no-cache, or a limit of
 * 0 MB). The pool starts at the first encoding the cache does not hold, so a second run on the same
 * data starts no encoder at all. The model's checksum is checked first, here.
 */
async function fileEncoder(md: ModelDir, cfg: Resolved): Promise<{ encoder: FileEncoder; cache?: EncodingCache }> {
  const threads = cfg.threads ?? os.cpus().length;
  let inner: FileEncoder;
  if (threads > 1) {
    // The checksum here; each worker checks the inputs and outputs as it loads the model.
    Encoder.verify(md);
    let pool: EncoderPool | undefined;
    inner = {
      encodeFile: (file, factors, output) => (pool ??= EncoderPool.create(md, threads)).encodeFile(file, factors, output),
      release: async () => { await pool?.release(); },
    };
  } else {
    const one = await Encoder.create(md, { threads: 1 });
    const local = localFileEncoder(one);
    inner = { encodeFile: local.encodeFile, release: () => one.release() };
  }
  const limit = cacheLimitBytes();
  if (!cfg.cache || limit === 0) return { encoder: inner };
  const cache = new EncodingCache(cacheRoot(), limit);
  return { encoder: cachedFileEncoder(inner, cache, modelCacheKey(md.manifest), md.manifest.encoder.hiddenSize), cache };
}

/** A fresh head (d, V) with small seeded weights and a blank-favouring bias, for --as-base. */
function randomHead(d: number, V: number, seed: number): CtcHead {
  const r = rng(seed ^ 0xbead);
  const w = Float32Array.from({ length: d * V }, () => (r() - 0.5) * 2 / Math.sqrt(d));
  const b = new Float32Array(V);
  b[0] = 2;
  return new CtcHead(w, b, d, V);
}
