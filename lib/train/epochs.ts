/**
 * Phase 3 of training: epochs, member by member. Each epoch: length-sorted batches of masked encoder
 * outputs -> adapter -> CTC head -> CTC loss (+ optional KL to the base); Adam with decoupled weight
 * decay and gradient clipping; then a cheap dev pass (beam PROXY_BEAM) drives early stopping and
 * proposes the best CANDIDATES epochs, which dev WER at beam <= SELECT_BEAM then chooses among; a
 * checkpoint after each epoch makes the run resumable (--resume).
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { packWeights, unpackWeights, weightsRecord, type AdapterMeta } from '../adapter/io.js';
import { adapterLogProbs, type AdapterMethod, type AdapterWeights } from '../adapter/math.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { AdapterModel } from './adapter-model.js';
import { defaultShards, GradPool, localGradients, ShardBuffers } from './grad-pool.js';
import { rng, shuffled, type Example } from './data.js';
import { CANDIDATES, devScore, type DevDecoder, type DevScore } from './dev-score.js';
import type { Baseline } from './guard.js';
import type { EpochReport, Resolved, TrainOptions } from './options.js';
import type { PhaseClock } from './phases.js';
import type { Prepared } from './prepare.js';
import type { Shard, StepConfig } from './shard.js';

/** A run's checkpoint: the member in training (epoch counters are its own), the finished members, the history of all. */
interface PartialState {
  configKey: string;
  /** The member in training (from 0) and the best and last epochs of those finished (absent before ensembles: 0 and []). */
  member?: number;
  done?: { bestEpoch: number; epochs: number }[];
  epoch: number;
  bestEpoch: number;
  bestWer: number;
  bestLoss: number;
  /** Lowest dev loss so far (absent in checkpoints from before 0.3). */
  minLoss?: number;
  sinceBest: number;
  history: EpochReport[];
  elapsedSec: number;
}

/** Checkpoint state with the ensemble fields filled in. */
export type RunState = PartialState & Required<Pick<PartialState, 'member' | 'done'>>;

/** The members trained (each at its best epoch) and the run's final state (history, epochs, time). */
export interface Trained { members: AdapterWeights[]; state: RunState }

/** Where an interrupted run of `out` keeps its checkpoint. */
export const partialDir = (out: string): string => path.join(path.dirname(out), `.${path.basename(out)}.partial`);

/**
 * Phase 3: train every member (resuming from the checkpoint in `partial` when cfg.resume), each step
 * cut into shards on `pool` when one is running (see startGradPool).
 */
export async function trainMembers(tf: typeof TF, cfg: Resolved, run: Prepared, bl: Baseline, partial: string, options: TrainOptions, log: (line: string) => void,
  step: StepConfig, pool?: GradPool, clock?: PhaseClock): Promise<Trained> {
  const { folds, vocab, spec, givenDev } = run;
  const K = cfg.ensemble;
  const basePost = cfg.kld > 0 ? basePosteriors(folds.flatMap((f) => f.train), bl.fresh) : undefined;
  const configKey = JSON.stringify({ ...cfg, out: undefined, resume: undefined, force: undefined, threads: undefined, cache: undefined, encoder: spec.encoder.sha256, n: run.examples.length });
  const startMember = (k: number, elapsedSec: number, history: EpochReport[], done: RunState['done']): RunState => {
    const b = bl.baseProxy[givenDev ? 0 : k];
    return { configKey, member: k, done, epoch: 0, bestEpoch: 0, bestWer: b.wer, bestLoss: b.loss, minLoss: b.loss, sinceBest: 0, history, elapsedSec };
  };
  let state: RunState = startMember(0, 0, [], []);
  const members: AdapterWeights[] = [];
  let resumed: { weights: AdapterWeights; best: AdapterWeights } | undefined;
  if (cfg.resume) {
    const saved = JSON.parse(fs.readFileSync(path.join(partial, 'state.json'), 'utf8')) as PartialState & { meta: AdapterMeta };
    if (saved.configKey !== configKey) throw new UsageError(`${cfg.out}: the interrupted run used other options or data; rerun without --resume (add --force)`);
    state = { ...saved, member: saved.member ?? 0, done: saved.done ?? [] };
    for (let k = 0; k < state.member; k++) members.push(unpackWeights(fs.readFileSync(path.join(partial, `member-${k}.bin`)), saved.meta, partial)[0]);
    if (state.epoch > 0) {
      resumed = { weights: unpackWeights(fs.readFileSync(path.join(partial, 'current.bin')), saved.meta, partial)[0], best: unpackWeights(fs.readFileSync(path.join(partial, 'best.bin')), saved.meta, partial)[0] };
    }
    log(`resuming after epoch ${state.epoch}${K > 1 ? ` of member ${state.member + 1} of ${K}` : ''}`);
  }
  const buffers = new ShardBuffers();
  const tStart = performance.now() - state.elapsedSec * 1000;
  for (let k = state.member; k < K; k++) {
    if (k > state.member) state = startMember(k, state.elapsedSec, state.history, state.done);
    const fold = folds[k], seed = cfg.seed + k;
    if (K > 1) log(`member ${k + 1} of ${K}: ${fold.train.length} training utterances, ${fold.dev.length} dev${givenDev ? '' : ` (fold ${k + 1})`}, seed ${seed}; base dev WER ${(100 * bl.baseSel[givenDev ? 0 : k].wer).toFixed(1)}%`);
    let weights = resumed?.weights ?? (k === 0 ? bl.fresh : bl.initMember(k)), best = resumed?.best ?? weights;
    // The best epochs by the cheap dev pass, compared again at the selection beam when the member ends
    // (after --resume only the best one so far is known).
    let cands: Candidate[] = resumed && state.bestEpoch > 0 ? [{ epoch: state.bestEpoch, weights: best, wer: state.bestWer, loss: state.bestLoss }] : [];
    resumed = undefined;
    const model = new AdapterModel(tf, weights);
    const optA = tf.train.adam(cfg.lr, 0.9, 0.98);
    const optH = tf.train.adam(Math.max(cfg.headLr, 1e-12), 0.9, 0.98);
    try {
      for (let epoch = state.epoch + 1; epoch <= cfg.epochs && state.sinceBest < cfg.patience; epoch++) {
        options.signal?.throwIfAborted();
        const r = rng(seed * 1000 + epoch);
        let lossSum = 0, lossN = 0;
        const tEpoch = performance.now();
        for (const batch of makeBatches(fold.train, cfg.batchFrames, r)) {
          lossSum += (await trainStep(tf, cfg, model, optA, optH, batch, step, r, buffers, pool, basePost)) * batch.length;
          lossN += batch.length;
        }
        const trainSec = (performance.now() - tEpoch) / 1000;
        clock?.add('train steps', trainSec);
        weights = model.read();
        const tDev = performance.now();
        const s = devScore([weights], fold.dev, vocab, bl.proxy, devLogProbs(tf, model, fold.dev, Math.ceil(cfg.batchFrames / (pool?.shards ?? 1))));
        clock?.add('dev scoring', (performance.now() - tDev) / 1000);
        // Best epoch: lowest dev WER (ties: lower dev loss). Patience runs out only when neither the WER nor the
        // dev loss has improved for `patience` epochs: WER on a small dev set is noisy and can stall while the
        // adapter is still learning.
        const improved = s.wer < state.bestWer - 1e-9 || (Math.abs(s.wer - state.bestWer) < 1e-9 && s.loss < state.bestLoss);
        const lossImproved = s.loss < (state.minLoss ?? state.bestLoss) - 1e-6;
        if (lossImproved) state.minLoss = s.loss;
        if (improved) { state.bestWer = s.wer; state.bestLoss = s.loss; state.bestEpoch = epoch; best = weights; }
        cands = [...cands, { epoch, weights, wer: s.wer, loss: s.loss }].sort(byWerThenLoss).slice(0, CANDIDATES);
        state.sinceBest = improved || lossImproved ? 0 : state.sinceBest + 1;
        const elapsedSec = (performance.now() - tStart) / 1000;
        // ETA (an upper bound): this member's remaining epochs, and the members to come as long as those finished took (else all epochs).
        const perEpoch = elapsedSec / (state.history.length + 1);
        const later = state.done.length ? state.done.reduce((a, m) => a + m.epochs, 0) / state.done.length : cfg.epochs;
        const rep: EpochReport = { epoch, ...(K > 1 ? { member: k } : {}), trainLoss: lossSum / Math.max(1, lossN), devLoss: s.loss, devWer: s.wer, devCer: s.cer, trainSec, elapsedSec, etaSec: perEpoch * (cfg.epochs - epoch + (K - 1 - k) * later) };
        state.history.push(rep);
        state.epoch = epoch;
        state.elapsedSec = elapsedSec;
        options.onEpoch?.(rep);
        const tCk = performance.now();
        writeCheckpoint(partial, state, weights, best, cfg.accent, cfg.method);
        clock?.add('checkpoints', (performance.now() - tCk) / 1000);
      }
    } finally {
      model.dispose();
      optA.dispose();
      optH.dispose();
    }
    if (bl.proxy.name !== bl.selector.name && cands.length) {
      const tSel = performance.now();
      const chosen = selectEpoch(cands, fold.dev, vocab, bl.selector, bl.baseSel[givenDev ? 0 : k]);
      clock?.add('dev scoring', (performance.now() - tSel) / 1000);
      log(`${K > 1 ? `member ${k + 1}: ` : ''}epochs compared at ${bl.proxy.name}; the best ${cands.length} (${cands.map((c) => c.epoch).join(', ')}) at ${bl.selector.name}: ${chosen ? `epoch ${chosen.epoch}, dev WER ${(100 * chosen.wer).toFixed(1)}%` : 'none beats the base model'}`);
      best = chosen?.weights ?? (k === 0 ? bl.fresh : bl.initMember(k));
      state.bestEpoch = chosen?.epoch ?? 0;
    }
    members.push(best);
    state.done.push({ bestEpoch: state.bestEpoch, epochs: state.epoch });
    if (K > 1) {
      // The finished member, then a checkpoint that starts the next one (a kill in between redoes nothing twice).
      writeFileAtomic(path.join(partial, `member-${k}.bin`), packWeights([best]).blob);
      if (k + 1 < K) writeCheckpoint(partial, startMember(k + 1, state.elapsedSec, state.history, state.done), best, best, cfg.accent, cfg.method);
    }
  }
  return { members, state };
}

/** The settings of every gradient step of a run. */
export function stepConfig(cfg: Resolved, run: Prepared): StepConfig {
  return { dropout: cfg.dropout, kld: cfg.kld, blank: run.vocab.blank, d: run.spec.encoder.hiddenSize, V: run.vocab.symbols.length, trainHead: cfg.headLr > 0 || cfg.method === 'head' };
}

/** Gradient workers for the run (one per core beyond this thread), or undefined to train on this thread alone (one core, or the workers did not start: said in the log). */
export async function startGradPool(cfg: Resolved, step: StepConfig, weights: AdapterWeights, log: (line: string) => void): Promise<GradPool | undefined> {
  try {
    return await GradPool.start(defaultShards(cfg.threads), weights, step);
  } catch (err) {
    log(`gradient workers did not start (${(err as Error).message.split('\n')[0]}); training on one thread`);
    return undefined;
  }
}

/** An epoch's weights and its dev scores. */
interface Candidate { epoch: number; weights: AdapterWeights; wer: number; loss: number }

/** Lower dev WER first; equal WERs (to 1e-9): lower dev loss first. */
const byWerThenLoss = (a: { wer: number; loss: number }, b: { wer: number; loss: number }): number => (Math.abs(a.wer - b.wer) < 1e-9 ? a.loss - b.loss : a.wer - b.wer);

/**
 * The candidate epochs scored again with `selector`: the best, if it beats the base model's score
 * there (lower WER, or the same WER at a lower loss), else undefined (keep the base model).
 */
function selectEpoch(cands: Candidate[], dev: Example[], vocab: Prepared['vocab'], selector: DevDecoder, base: DevScore): Candidate | undefined {
  const rescored = cands.map((c) => {
    const s = devScore([c.weights], dev, vocab, selector);
    return { ...c, wer: s.wer, loss: s.loss };
  }).sort((a, b) => byWerThenLoss(a, b) || a.epoch - b.epoch);
  return byWerThenLoss(rescored[0], base) < 0 ? rescored[0] : undefined;
}

/**
 * The model's log-probabilities (T, V) for each dev example, computed in TensorFlow.js in batches of
 * at most `maxFrames` padded frames (with the valid-frame mask, padding does not change them: they
 * equal adapterLogProbs' to float rounding, several times faster than the typed-array loops).
 */
function devLogProbs(tf: typeof TF, model: AdapterModel, dev: Example[], maxFrames: number): Float32Array[] {
  const out: Float32Array[] = new Array(dev.length);
  const order = dev.map((_, i) => i).sort((a, b) => dev[a].T - dev[b].T);
  const d = model.w.dim, V = model.w.vocabSize;
  for (let i = 0; i < order.length;) {
    let j = i + 1;
    while (j < order.length && dev[order[j]].T * (j - i + 1) <= maxFrames) j++;
    const idx = order.slice(i, j), B = idx.length, T = dev[idx[B - 1]].T;
    const x = new Float32Array(B * T * d), mask = new Float32Array(B * T);
    idx.forEach((k, b) => { x.set(dev[k].frames, b * T * d); mask.fill(1, b * T, b * T + dev[k].T); });
    // Read outside tf.tidy: a typed array returned from tidy is walked element by element in search of tensors
    // (about 0.5 us per float: 28 ms per 1,500-frame batch, several seconds of a zh-L1 run).
    const t = tf.tidy(() => tf.logSoftmax(model.logits(tf.tensor3d(x, [B, T, d]), 0, undefined, tf.tensor3d(mask, [B, T, 1]))));
    const lp = t.dataSync() as Float32Array;
    t.dispose();
    idx.forEach((k, b) => { out[k] = lp.slice(b * T * V, (b * T + dev[k].T) * V); });
    i = j;
  }
  return out;
}

/** One gradient step on a batch (cut into shards, one per core, when a pool is running); returns its mean loss. */
async function trainStep(tf: typeof TF, cfg: Resolved, model: AdapterModel, optA: TF.AdamOptimizer, optH: TF.AdamOptimizer, batch: Example[], step: StepConfig, r: () => number,
  buffers: ShardBuffers, pool?: GradPool, basePost?: Map<Example, Float32Array>): Promise<number> {
  const shards = makeShards(batch, Math.min(pool?.shards ?? 1, batch.length), cfg, step, r, buffers, basePost);
  const { loss, grads } = pool && shards.length > 1 ? await pool.gradients(tf, model, shards) : localGradients(tf, model, shards[0], step);
  const groups = model.groups();
  clipGlobalNorm(tf, grads, 5);
  const gA: Record<string, TF.Tensor> = {}, gH: Record<string, TF.Tensor> = {};
  for (const v of groups.adapter) if (grads[v.name]) gA[v.name] = grads[v.name];
  for (const v of groups.head) if (grads[v.name]) gH[v.name] = grads[v.name];
  const named = (g: Record<string, TF.Tensor>) => Object.entries(g).map(([name, tensor]) => ({ name, tensor }));
  if (cfg.method === 'head') optA.applyGradients(named({ ...gA, ...gH }));
  else {
    if (Object.keys(gA).length) optA.applyGradients(named(gA));
    if (Object.keys(gH).length) optH.applyGradients(named(gH));
  }
  if (cfg.weightDecay > 0) {
    tf.tidy(() => {
      for (const v of [...groups.adapter, ...groups.head]) if (v.shape.length === 2) v.assign(tf.mul(v, 1 - (v === groups.head[0] ? cfg.headLr : cfg.lr) * cfg.weightDecay));
    });
  }
  tf.dispose(Object.values(grads));
  return loss;
}

/**
 * A batch as n shards: contiguous runs of its utterances sorted by length, equal in count, each
 * zero-padded to its own longest utterance and masked SpecAugment-style (the masks drawn in batch
 * order, so the random stream does not depend on n).
 */
function makeShards(batch: Example[], n: number, cfg: Resolved, c: StepConfig, r: () => number, buffers: ShardBuffers, basePost?: Map<Example, Float32Array>): Shard[] {
  const B = batch.length, d = c.d, V = c.V;
  const order = batch.map((_, i) => i).sort((a, b) => batch[a].T - batch[b].T || a - b);
  const shardOf = new Int32Array(B), slot = new Int32Array(B);
  const members: Example[][] = Array.from({ length: n }, () => []);
  order.forEach((i, j) => {
    const s = Math.floor((j * n) / B);
    shardOf[i] = s;
    slot[i] = members[s].length;
    members[s].push(batch[i]);
  });
  const Ts = members.map((m) => Math.max(...m.map((e) => e.T)));
  const xs = members.map((m, s) => buffers.get(s, m.length * Ts[s] * d));
  let frames = 0;
  batch.forEach((e, i) => {
    const s = shardOf[i], off = slot[i] * Ts[s] * d;
    xs[s].set(e.frames, off);
    maskInPlace(xs[s], off, e.T, d, cfg.timeMask, cfg.featureMask, r);
    frames += e.T;
  });
  const dropSeed = Math.floor(r() * 1e9);
  return members.map((m, s): Shard => {
    const shard: Shard = { x: xs[s], B: m.length, T: Ts[s], labels: m.map((e) => e.labels), lengths: m.map((e) => e.T), batchUtterances: B, batchFrames: frames, dropSeed: dropSeed + s };
    if (basePost) {
      // The base model's posteriors (B, T, V) and a mask of real frames (B, T), for the KL term.
      shard.post = new Float32Array(m.length * Ts[s] * V);
      shard.valid = new Float32Array(m.length * Ts[s]);
      m.forEach((e, b) => { shard.post!.set(basePost.get(e)!, b * Ts[s] * V); shard.valid!.fill(1, b * Ts[s], b * Ts[s] + e.T); });
    }
    return shard;
  });
}

/** With KLD regularisation: the base model's posteriors (T, V) of every training utterance, once (unmasked input). */
function basePosteriors(examples: Example[], fresh: AdapterWeights): Map<Example, Float32Array> {
  const out = new Map<Example, Float32Array>();
  for (const e of new Set(examples)) {
    const lp = adapterLogProbs([fresh], e.frames, e.T);
    for (let i = 0; i < lp.length; i++) lp[i] = Math.exp(lp[i]);
    out.set(e, lp);
  }
  return out;
}

/** Length-sorted batches of at most `maxFrames` padded frames, in seeded order. */
function makeBatches(train: Example[], maxFrames: number, r: () => number): Example[][] {
  const order = [...train].sort((a, b) => a.T - b.T + (r() - 0.5) * 20);
  const out: Example[][] = [];
  let cur: Example[] = [];
  for (const e of order) {
    const longest = Math.max(e.T, ...cur.map((x) => x.T));
    if (cur.length && longest * (cur.length + 1) > maxFrames) { out.push(cur); cur = []; }
    cur.push(e);
  }
  if (cur.length) out.push(cur);
  return shuffled(out, r);
}

/** SpecAugment-style masking of encoder outputs (T, d) at `off`: time spans and channel spans set to zero. */
function maskInPlace(x: Float32Array, off: number, T: number, d: number, timeFrac: number, featFrac: number, r: () => number): void {
  let masked = 0;
  while (masked < timeFrac * T) {
    const w = 1 + Math.floor(r() * Math.min(10, Math.max(1, T * timeFrac)));
    const t0 = Math.floor(r() * Math.max(1, T - w));
    x.fill(0, off + t0 * d, off + (t0 + w) * d);
    masked += w;
  }
  const fw = Math.floor(r() * featFrac * d * 2);
  if (fw > 0) {
    const f0 = Math.floor(r() * (d - fw));
    for (let t = 0; t < T; t++) x.fill(0, off + t * d + f0, off + t * d + f0 + fw);
  }
}

/** Scale the gradients in place so that their global L2 norm is at most maxNorm. */
function clipGlobalNorm(tf: typeof TF, grads: Record<string, TF.Tensor>, maxNorm: number): void {
  // One read-back for the whole norm (a read per tensor stalls the backend once each).
  const norm = Math.sqrt(tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]));
  if (norm > maxNorm) {
    for (const k of Object.keys(grads)) {
      const old = grads[k];
      grads[k] = tf.mul(old, maxNorm / norm);
      old.dispose();
    }
  }
}

/** Write the checkpoint: the current and best weights and the state, each file atomically. */
function writeCheckpoint(dir: string, state: PartialState, current: AdapterWeights, best: AdapterWeights, accent: string, method: AdapterMethod): void {
  fs.mkdirSync(dir, { recursive: true });
  const write = (name: string, data: Buffer): void => writeFileAtomic(path.join(dir, name), data);
  const c = packWeights([current]), b = packWeights([best]);
  const meta = { method, accent, weights: weightsRecord([current], c.tensors) };
  write('current.bin', c.blob);
  write('best.bin', b.blob);
  write('state.json', Buffer.from(JSON.stringify({ ...state, meta })));
}
