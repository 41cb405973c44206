/**
 * Phases 2 and 4 of training: the base model's dev scores (the bar), and the guard that keeps an
 * adapter only if it clearly beats them, then (with enough dev words) the adapter's own LM weight
 * and word bonus.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MemberRecord } from '../adapter/io.js';
import { adapterLogProbs, type AdapterWeights } from '../adapter/math.js';
import type { AdapterMeta } from '../adapter/io.js';
import { ArpaLm } from '../decode/arpa.js';
import { tunedDecoding } from '../decode/ctc-beam.js';
import { pairedBootstrap } from '../eval/significance.js';
import { addCounts, rate, scoreUtterance, zeroCounts } from '../eval/wer.js';
import { initAdapter } from './adapter-model.js';
import type { Example } from './data.js';
import { devDecoder, devScore, pooled, PROXY_BEAM, SELECT_BEAM, TUNE_MARGIN, tuneDecoding, type DevDecoder, type DevScore } from './dev-score.js';
import type { Resolved } from './options.js';
import type { Prepared } from './prepare.js';

/**
 * The base model's scores on the dev sets, and the decoders that judge (`decoder`), compare the best
 * epochs (`selector`) and score every epoch cheaply (`proxy`).
 */
export interface Baseline {
  /** Member k's starting weights: exactly the base model (W_up = 0, or the model's own top blocks), seeded by k. */
  initMember: (k: number) => AdapterWeights;
  fresh: AdapterWeights;
  lm?: ArpaLm;
  decoder: DevDecoder;
  selector: DevDecoder;
  proxy: DevDecoder;
  /** Per distinct dev set (a given one, or each fold): the base model as judged and as compared per epoch. */
  baseFold: DevScore[];
  baseSel: DevScore[];
  baseProxy: DevScore[];
  /** All dev sets pooled. */
  base: DevScore;
}

/** Phase 2: the base model on the dev data, decoded as users get it (the model's LM and settings). */
export function measureBaseline(cfg: Resolved, run: Prepared, log: (line: string) => void): Baseline {
  const { md, spec, vocab, pron, folds, top, baseHead } = run;
  const initMember = (k: number): AdapterWeights => initAdapter(cfg.method, spec.encoder.hiddenSize, vocab.symbols.length, baseHead.weight, baseHead.bias, cfg.bottleneck, cfg.context, cfg.seed + k, top);
  const fresh = initMember(0);
  const lmFile = path.join(md.dir, 'lm.arpa.gz');
  const lm = cfg.devDecoding === 'default' && fs.existsSync(lmFile) ? ArpaLm.load(lmFile) : undefined;
  // The verdict uses the model's own decoding; epochs are compared with the beam capped at SELECT_BEAM.
  const decoder = devDecoder(md, vocab, spec.encoder.frameShift, cfg.devDecoding, lm, pron);
  const selector = devDecoder(md, vocab, spec.encoder.frameShift, cfg.devDecoding, lm, pron, SELECT_BEAM);
  const proxy = devDecoder(md, vocab, spec.encoder.frameShift, cfg.devDecoding, lm, pron, PROXY_BEAM);
  const foldDevs = run.givenDev ? [folds[0].dev] : folds.map((f) => f.dev); // distinct dev sets
  const baseFold = foldDevs.map((dv) => devScore([fresh], dv, vocab, decoder));
  const baseSel = selector.name === decoder.name ? baseFold : foldDevs.map((dv) => devScore([fresh], dv, vocab, selector));
  const baseProxy = proxy.name === selector.name ? baseSel : foldDevs.map((dv) => devScore([fresh], dv, vocab, proxy));
  const base = pooled(baseFold);
  log(`base model on dev (${decoder.name}): WER ${(100 * base.wer).toFixed(1)}%, CER ${(100 * base.cer).toFixed(1)}% (${base.words} words), loss ${base.loss.toFixed(3)}`);
  return { initMember, fresh, lm, decoder, selector, proxy, baseFold, baseSel, baseProxy, base };
}

/** The guard's finding: the adapted dev scores, the verdict and its p-value, and each member's record. */
export interface Judgement {
  after: DevScore;
  pValue: number;
  accepted: boolean;
  verdict: string;
  memberRecords?: MemberRecord[];
}

/**
 * Phase 4: keep the adapter only if its dev WER is at least `acceptMargin` lower (relative) and a paired
 * bootstrap finds the gain unlikely to be luck (p <= acceptP). Folds: every utterance judged by the member
 * that did not train on it, pooled; a given dev set: the ensemble.
 */
export function judge(cfg: Resolved, run: Prepared, bl: Baseline, members: AdapterWeights[], done: { bestEpoch: number; epochs: number }[], log: (line: string) => void): Judgement {
  const { folds, vocab, givenDev } = run;
  const K = members.length;
  const memberScores = givenDev ? [] : members.map((w, k) => devScore([w], folds[k].dev, vocab, bl.decoder));
  const after = givenDev ? devScore(members, folds[0].dev, vocab, bl.decoder) : pooled(memberScores);
  const base = bl.base;
  const gain = base.wer > 0 ? (base.wer - after.wer) / base.wer : 0;
  const pValue = pairedBootstrap(base.perUtterance, after.perUtterance, 2000, cfg.seed);
  const change = `WER ${(100 * base.wer).toFixed(1)}% -> ${(100 * after.wer).toFixed(1)}% (${(100 * gain).toFixed(1)}% relative, p = ${pValue.toFixed(3)})`;
  const judged = K === 1 ? 'held-out dev data' : givenDev ? 'the given dev data (the ensemble)' : `held-out dev data (each of the ${K} folds by the member that did not train on it)`;
  let verdict: string, accepted: boolean;
  if (after.words < cfg.minDevWords) {
    accepted = false;
    verdict = `not judged: the dev set has only ${after.words} words (need ${cfg.minDevWords}); the adapter may not help`;
  } else if (gain >= cfg.acceptMargin && pValue <= cfg.acceptP) {
    accepted = true;
    verdict = `better than the base model on ${judged}: ${change}`;
  } else {
    accepted = false;
    verdict = `NOT clearly better than the base model on ${judged}: ${change}; needs ${(100 * cfg.acceptMargin).toFixed(0)}% relative at p <= ${cfg.acceptP}; using it may make recognition worse`;
  }
  log(verdict);
  const memberRecords: MemberRecord[] | undefined = K > 1 ? members.map((_, k) => {
    const mine = givenDev ? devScore([members[k]], folds[0].dev, vocab, bl.decoder) : memberScores[k];
    const b = bl.baseFold[givenDev ? 0 : k];
    return { seed: cfg.seed + k, epochs: done[k].epochs, bestEpoch: done[k].bestEpoch, devUtterances: mine.n, baseWer: b.wer, adaptedWer: mine.wer };
  }) : undefined;
  if (memberRecords) log(`members on their dev sets: ${memberRecords.map((m, k) => `${k + 1}: ${(100 * m.baseWer).toFixed(1)}% -> ${(100 * m.adaptedWer).toFixed(1)}%`).join(', ')}`);
  return { after, pValue, accepted, verdict, memberRecords };
}

/**
 * Phase 4b: the adapter's own LM weight and word bonus, when it was accepted and the dev data is large
 * enough to choose them (see tuneDecoding); undefined keeps the model's.
 */
export function adapterDecoding(cfg: Resolved, run: Prepared, bl: Baseline, members: AdapterWeights[], j: Judgement, log: (line: string) => void): AdapterMeta['decoding'] {
  if (!(j.accepted && bl.lm && cfg.devDecoding === 'default' && j.after.words >= cfg.tuneMinWords)) return undefined;
  const { folds, vocab, spec } = run;
  const t0 = performance.now();
  // Dev log-probabilities once (each fold by its member, or a given dev set by the ensemble), decoded per setting.
  const sets: { members: AdapterWeights[]; dev: Example[] }[] = run.givenDev ? [{ members, dev: folds[0].dev }] : members.map((w, k) => ({ members: [w], dev: folds[k].dev }));
  const cached = sets.flatMap(({ members: ws, dev }) => dev.map((e) => ({ e, lp: adapterLogProbs(ws, e.frames, e.T) })));
  const V = vocab.symbols.length;
  const werWith = (o: { lmWeight: number; wordBonus: number }): number => {
    const dec = bl.selector.reweighed!(o);
    let wc = zeroCounts();
    for (const { e, lp } of cached) wc = addCounts(wc, scoreUtterance(e.text, dec.decode(lp, e.T, V)).words);
    return rate(wc);
  };
  const own = tunedDecoding(spec.decoding ?? {}, true);
  const r = tuneDecoding(werWith, own);
  const line = `LM weight ${r.best.lmWeight}, word bonus ${r.best.wordBonus}: dev WER ${(100 * r.bestWer).toFixed(1)}% against ${(100 * r.ownWer).toFixed(1)}% with the model's (${own.lmWeight}, ${own.wordBonus}) at beam ${SELECT_BEAM}; ${((performance.now() - t0) / 1000).toFixed(0)} s`;
  if (r.bestWer <= r.ownWer * (1 - TUNE_MARGIN)) {
    log(`decoding with this adapter: ${line}`);
    return { ...r.best, devWer: r.bestWer, modelDevWer: r.ownWer };
  }
  log(`decoding with this adapter: the model's own (the best, ${line}, is not ${100 * TUNE_MARGIN}% better)`);
  return undefined;
}
