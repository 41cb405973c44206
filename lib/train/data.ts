/**
 * Training data for adapters: read, normalise and check utterances, take a deterministic subset,
 * split off a dev set (by speaker when speakers are known), and cache encoder outputs.
 */
import fs from 'node:fs';
import { readWavInfo } from '../audio/wav.js';
import type { Utterance } from '../data/manifest.js';
import type { Pronunciations } from '../decode/pronunciations.js';
import type { FileEncoder, FileEncoding } from '../encoder/pool.js';
import { DEV_SPLITS, type DevSplit } from '../adapter/io.js';
import { InputError } from '../errors.js';
import { normalizeText } from '../text/normalize.js';
import { rng, shuffled } from '../util/random.js';

export { rng, shuffled } from '../util/random.js';

export interface Example {
  id: string;
  /** The audio file it was read from (a speed-perturbed copy's id ends in @factor). */
  audio: string;
  speaker?: string;
  text: string;
  labels: Int32Array;
  seconds: number;
  /** Encoder output (T, d), cached. */
  frames: Float32Array;
  T: number;
}

export interface Skipped { reason: string; files: string[] }

/** CTC needs one frame per label, plus one between repeated labels. */
export function framesNeeded(labels: ArrayLike<number>): number {
  let n = labels.length;
  for (let i = 1; i < labels.length; i++) if (labels[i] === labels[i - 1]) n++;
  return n;
}

/** Turns a normalised transcript into CTC label ids, or names the word it cannot. */
export type Labeler = (text: string) => Int32Array | { missing: string };

/**
 * Labels over the model's symbols: a character model's letters (others dropped), or for a phone
 * model each word's first pronunciation from its dictionary, ' ' between words.
 */
export function labeler(vocab: readonly string[], pron?: Pronunciations): Labeler {
  const index = new Map(vocab.map((s, i) => [s, i]));
  if (!pron) return (text) => Int32Array.from([...text].map((c) => index.get(c) ?? -1).filter((x) => x >= 0));
  return (text) => {
    const t = pron.targets(text);
    return 'missing' in t ? t : Int32Array.from(t.symbols, (s) => index.get(s) ?? -1).filter((x) => x >= 0);
  };
}

/**
 * Encode and check utterances (all at once: the encoder may run them on several threads; the
 * examples keep the utterances' order). Unreadable audio, empty transcripts and utterances too
 * short for their transcript are skipped and reported by reason. `output`: which encoder output to
 * cache (method 'top' caches the hidden states that enter the trainable top blocks).
 */
export async function prepareExamples(utts: Utterance[], encoder: FileEncoder, toLabels: Labeler, onProgress?: (i: number, n: number) => void, signal?: AbortSignal,
  output?: string): Promise<{ examples: Example[]; skipped: Skipped[] }> {
  let done = 0;
  const progress = (): void => onProgress?.(++done, utts.length);
  type Skip = { reason: string; file: string };
  const results = await Promise.all(utts.map(async (u): Promise<Example | Skip> => {
    signal?.throwIfAborted();
    const text = normalizeText(u.text);
    const labels = toLabels(text);
    if (!(labels instanceof Int32Array)) { progress(); return { reason: 'a word with no pronunciation (not in the dictionary, and its letters cannot be guessed)', file: `${u.audio} ("${labels.missing}")` }; }
    if (labels.length === 0) { progress(); return { reason: 'empty transcript', file: u.audio }; }
    let enc: FileEncoding;
    try {
      enc = await encoder.encodeFile(u.audio, [1], output);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      progress();
      return { reason: 'unreadable audio', file: `${u.audio} (${err.message.replace(`${u.audio}: `, '')})` };
    }
    progress();
    const o = enc.outputs[0];
    if (o.numFrames < framesNeeded(labels)) return { reason: 'audio too short for its transcript', file: u.audio };
    return { id: u.id, audio: u.audio, speaker: u.speaker, text, labels, seconds: enc.seconds, frames: o.frames, T: o.numFrames };
  }));
  // Reasons and files in the utterances' order, whatever order the encodings finished in.
  const skipped = new Map<string, string[]>();
  for (const r of results) if ('reason' in r) skipped.set(r.reason, [...(skipped.get(r.reason) ?? []), r.file]);
  return { examples: results.filter((r): r is Example => !('reason' in r)), skipped: [...skipped].map(([reason, files]) => ({ reason, files })) };
}

/**
 * Speed perturbation (as in Kaldi recipes): a copy of each example at each factor other than 1, its
 * audio played faster or slower (tempo and pitch together) by relabelling the sample rate before
 * the encoder resamples to its own. Copies too short for their transcript are left out. Copies come
 * factor by factor, each in the examples' order.
 */
export async function speedPerturb(examples: Example[], factors: number[], encoder: FileEncoder, onProgress?: (i: number, n: number) => void, signal?: AbortSignal,
  output?: string): Promise<Example[]> {
  const fs = factors.filter((f) => f !== 1);
  let done = 0;
  const encoded = await Promise.all(examples.map(async (e) => {
    signal?.throwIfAborted();
    const r = await encoder.encodeFile(e.audio, fs, output);
    done += fs.length;
    onProgress?.(done, examples.length * fs.length);
    return r;
  }));
  const byFactor: Example[][] = fs.map(() => []);
  examples.forEach((e, j) => {
    for (const [i, f] of fs.entries()) {
      const o = encoded[j].outputs[i];
      if (o.numFrames >= framesNeeded(e.labels)) byFactor[i].push({ ...e, id: `${e.id}@${f}`, seconds: e.seconds / f, frames: o.frames, T: o.numFrames });
    }
  });
  return byFactor.flat();
}

/** Duration from the WAV header (0 for an unreadable file, which is reported when it is encoded). */
export function estimateSeconds(file: string): number {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const info = readWavInfo(file, fd, fs.fstatSync(fd).size);
      return info.numFrames / info.sampleRate;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return 0;
  }
}

/** `train --minutes`: the deterministic subset of a dataset (durations from the manifest, else from the WAV header). */
export function subsetMinutes(utts: Utterance[], minutes: number, seed: number): Utterance[] {
  return takeMinutes(utts.map((u) => ({ ...u, duration: u.duration ?? estimateSeconds(u.audio) })), minutes, seed);
}

/** A deterministic subset of about `minutes` of audio (seeded order, whole utterances). */
export function takeMinutes<T extends { seconds?: number; duration?: number }>(xs: T[], minutes: number, seed: number): T[] {
  const out: T[] = [];
  let total = 0;
  for (const x of shuffled(xs, rng(seed))) {
    if (total >= minutes * 60) break;
    out.push(x);
    total += x.seconds ?? x.duration ?? 0;
  }
  return out;
}

/** Why the data cannot be split as asked (a split by speaker needs every utterance labelled and 2+ speakers), or undefined. */
export function devSplitProblem(speakerOf: (string | undefined)[], how: 'auto' | DevSplit): string | undefined {
  if (how === 'auto' || how === 'utterances') return undefined;
  const n = new Set(speakerOf.filter((s) => !!s)).size, all = speakerOf.every((s) => !!s);
  if (n > 1 && all) return undefined;
  return `--dev-split ${how} needs a speaker for every utterance and at least 2 speakers (found ${n}${n && !all ? ', and utterances without one' : ''})`;
}


/**
 * Speakers needed before the dev set holds out whole speakers rather than some of each speaker's utterances.
 * A dev set of speakers the adapter trained on flatters it: on zh-L1 (16 speakers, 20 min, seeds 1-2) it
 * reported dev WER gains of 18.8 / 24.3% where new speakers gained 7% on test.
 */
export const MIN_DEV_SPEAKERS = 8;

/**
 * Hold out a dev set of about 15% of the utterances. With speaker labels and at least MIN_DEV_SPEAKERS
 * speakers: whole speakers, so the dev WER measures unseen speakers. With fewer, one held-out speaker
 * would be a sample of one that also never trains the adapter (the bundled Scottish data has five
 * voices: whichever was drawn was missing from training, and the farthest voice from the base was
 * never judged); so each speaker's share of 15% of the utterances instead. Without speakers: 15% of
 * utterances at random.
 */
export function splitDev(examples: Example[], seed: number, how: 'auto' | DevSplit = 'auto'): { train: Example[]; dev: Example[]; devSpeakers: string[]; split: DevSplit } {
  const speakers = [...new Set(examples.map((e) => e.speaker).filter((s): s is string => !!s))].sort();
  const r = rng(seed ^ 0x5eed);
  const speakerOf = examples.map((e) => e.speaker);
  const problem = devSplitProblem(speakerOf, how);
  if (problem) throw new InputError(problem);
  const labelled = devSplitProblem(speakerOf, 'speakers') === undefined; // every utterance labelled, 2+ speakers
  if (how === 'speakers' || (how === 'auto' && labelled && speakers.length >= MIN_DEV_SPEAKERS)) {
    const devSpeakers: string[] = [];
    let n = 0;
    for (const s of shuffled(speakers, r)) {
      if (n >= 0.15 * examples.length && devSpeakers.length > 0) break;
      if (devSpeakers.length >= speakers.length - 1) break;
      devSpeakers.push(s);
      n += examples.filter((e) => e.speaker === s).length;
    }
    return { train: examples.filter((e) => !devSpeakers.includes(e.speaker!)), dev: examples.filter((e) => devSpeakers.includes(e.speaker!)), devSpeakers: devSpeakers.sort(), split: 'speakers' };
  }
  const nDev = Math.max(1, Math.round(0.15 * examples.length));
  if (how === 'per-speaker' || (how === 'auto' && labelled)) {
    // Stratified: each speaker's utterances in a seeded order, the j-th of n keyed (j + 0.5) / n, so the
    // first nDev keys give every speaker its share of the dev set (to within one utterance).
    const keyed: { e: Example; key: number }[] = [];
    for (const s of shuffled(speakers, r)) {
      const mine = shuffled(examples.filter((e) => e.speaker === s), r);
      mine.forEach((e, j) => keyed.push({ e, key: (j + 0.5) / mine.length }));
    }
    keyed.sort((a, b) => a.key - b.key); // stable: ties keep the shuffled speaker order
    const dev = new Set(keyed.slice(0, nDev).map((k) => k.e));
    return { train: examples.filter((e) => !dev.has(e)), dev: examples.filter((e) => dev.has(e)), devSpeakers: [], split: 'per-speaker' };
  }
  const order = shuffled(examples, r);
  return { train: order.slice(nDev), dev: order.slice(0, nDev), devSpeakers: [], split: 'utterances' };
}

/** One fold of a cross-validated ensemble: the member trains on `train` and is judged on `dev`. */
export interface Fold { train: Example[]; dev: Example[]; devSpeakers: string[] }

/**
 * K folds for `train --ensemble K`: the examples dealt into K dev sets that cover every example once,
 * each member training on the other K-1. Split the way splitDev is: whole speakers (balanced by
 * utterance count) from MIN_DEV_SPEAKERS speakers up, and at least K of them; else each speaker's
 * utterances dealt round the folds; else utterances at random.
 */
export function foldSplit(examples: Example[], seed: number, K: number, how: 'auto' | DevSplit = 'auto'): { folds: Fold[]; split: DevSplit } {
  if (examples.length < 2 * K) throw new InputError(`--ensemble ${K} needs at least ${2 * K} usable utterances (two per fold), found ${examples.length}`);
  const speakers = [...new Set(examples.map((e) => e.speaker).filter((s): s is string => !!s))].sort();
  const r = rng(seed ^ 0xf01d);
  const speakerOf = examples.map((e) => e.speaker);
  const problem = devSplitProblem(speakerOf, how);
  if (problem) throw new InputError(problem);
  const labelled = devSplitProblem(speakerOf, 'speakers') === undefined;
  const foldOf = new Map<Example, number>();
  let split: DevSplit;
  if (how === 'speakers' || (how === 'auto' && labelled && speakers.length >= Math.max(MIN_DEV_SPEAKERS, K))) {
    if (speakers.length < K) throw new InputError(`--dev-split speakers with --ensemble ${K} needs at least ${K} speakers, found ${speakers.length}`);
    // Largest speakers first, each to the fold with the fewest utterances so far (seeded order among equals).
    const count = new Map(speakers.map((s) => [s, examples.filter((e) => e.speaker === s).length]));
    const order = shuffled(speakers, r).sort((a, b) => count.get(b)! - count.get(a)!);
    const sizes = new Array<number>(K).fill(0), fold = new Map<string, number>();
    for (const s of order) {
      const k = sizes.indexOf(Math.min(...sizes));
      fold.set(s, k);
      sizes[k] += count.get(s)!;
    }
    for (const e of examples) foldOf.set(e, fold.get(e.speaker!)!);
    split = 'speakers';
  } else if (how === 'per-speaker' || (how === 'auto' && labelled)) {
    // Each speaker's utterances in a seeded order, dealt round the folds; the deal continues from speaker to speaker, so the folds differ in size by one at most.
    let next = 0;
    for (const s of shuffled(speakers, r)) for (const e of shuffled(examples.filter((x) => x.speaker === s), r)) foldOf.set(e, next++ % K);
    split = 'per-speaker';
  } else {
    shuffled(examples, r).forEach((e, i) => foldOf.set(e, i % K));
    split = 'utterances';
  }
  const folds = Array.from({ length: K }, (_, k): Fold => {
    const dev = examples.filter((e) => foldOf.get(e) === k);
    return { train: examples.filter((e) => foldOf.get(e) !== k), dev, devSpeakers: split === 'speakers' ? [...new Set(dev.map((e) => e.speaker!))].sort() : [] };
  });
  return { folds, split };
}
