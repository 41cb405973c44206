/**
 * Scoring an adapter on dev data, as the trainer needs it: the decoder users will get (or a
 * narrower one for comparing epochs), WER/CER and CTC loss per dev set, pooled folds, and the grid
 * that picks an adapter's own LM weight and word bonus.
 */
import { adapterLogProbs, type AdapterWeights } from '../adapter/math.js';
import type { ArpaLm } from '../decode/arpa.js';
import { ctcBeamSearch, decodingName, tunedDecoding, type BeamOptions } from '../decode/ctc-beam.js';
import { ctcGreedy } from '../decode/ctc-greedy.js';
import type { Pronunciations } from '../decode/pronunciations.js';
import type { Vocabulary } from '../decode/types.js';
import type { ModelDir } from '../encoder/manifest.js';
import { ConfigError } from '../errors.js';
import { addCounts, rate, scoreUtterance, zeroCounts, type ErrorCounts } from '../eval/wer.js';
import { ctcSequence } from './ctc-loss.js';
import type { Example } from './data.js';

/**
 * Largest beam for the per-epoch dev pass that picks the best epoch. 32: a phone model's WER moves
 * a lot with the beam (it segments words as it searches; Scottish test 47.1 / 47.4 / 43.6% at beam
 * 8 / 16 / 32), so epochs are compared at the beam users get, up to this.
 */
export const SELECT_BEAM = 32;

/**
 * Beam of the cheaper dev pass run after every epoch: it drives early stopping and proposes the
 * CANDIDATES best epochs, which are then compared again at SELECT_BEAM (and the base model with them).
 * Beam 8 decodes about 3x faster than 32 (bench: adapt-time) and keeps the ranking close enough that
 * the best epoch at beam 32 is almost always among its best three.
 */
export const PROXY_BEAM = 8;
export const CANDIDATES = 3;

/** How dev utterances are decoded for early stopping and the guard: as `transcribe` will, by default. */
export interface DevDecoder {
  name: string;
  decode(logp: Float32Array, T: number, V: number): string;
  /** With an LM: the same decoder (its dictionary built once) at another LM weight and word bonus. */
  reweighed?(o: { lmWeight: number; wordBonus: number }): DevDecoder;
}

/**
 * The model's own default decoding (beam search with its LM, tuned weights and lexicon) when it ships
 * an LM, else greedy. Judging adapters by greedy WER when users get beam + LM misled the guard: an
 * adapter can improve one and worsen the other.
 */
export function devDecoder(md: ModelDir, vocab: Vocabulary, frameShift: number, mode: 'default' | 'greedy', lm: ArpaLm | undefined, pron: Pronunciations | undefined, maxBeam = 1000): DevDecoder {
  if (pron && mode === 'greedy') throw new ConfigError('--dev-decoding greedy: a phone model has no greedy decoding (it spells words through its pronunciation dictionary)');
  if (pron && !lm) {
    // No LM: a beam through the dictionary (a beam of 1 loses words when a phone string leaves it).
    const beam = Math.min(md.manifest.decoding?.beam ?? 8, maxBeam);
    const options: BeamOptions = { beam, lexicon: pron.lexicon(), wordBonus: tunedDecoding(md.manifest.decoding ?? {}, false).wordBonus, blankPenalty: md.manifest.decoding?.blankPenalty };
    return { name: decodingName(beam, false, 'dictionary'), decode: (lp, T, V) => ctcBeamSearch(lp, T, V, vocab, frameShift, options).text };
  }
  if (mode === 'greedy' || !lm) return { name: 'greedy', decode: (lp, T, V) => ctcGreedy(lp, T, V, vocab, frameShift).text };
  const t = md.manifest.decoding ?? {};
  const beam = Math.min(t.beam ?? 8, maxBeam);
  const lexicon = pron ? pron.lexicon(t.lexicon ? lm : undefined) : t.lexicon ? lm.lexicon() : undefined;
  const name = decodingName(beam, true, pron && !t.lexicon ? 'dictionary' : !!lexicon);
  const make = (o: { lmWeight: number; wordBonus: number }): DevDecoder => {
    const options: BeamOptions = { beam, lm, lmWeight: o.lmWeight, wordBonus: o.wordBonus, lexicon, oovPenalty: t.oovPenalty, blankPenalty: t.blankPenalty };
    return { name, decode: (lp, T, V) => ctcBeamSearch(lp, T, V, vocab, frameShift, options).text, reweighed: make };
  };
  return make(tunedDecoding(t, true));
}

/** Dev metrics on examples: WER and CER (and their counts), mean CTC loss per label, per-utterance word errors. */
export interface DevScore { wer: number; cer: number; loss: number; words: number; wordCounts: ErrorCounts; charCounts: ErrorCounts; n: number; perUtterance: ErrorCounts[] }

/**
 * Dev metrics of an adapter (one member, or an ensemble's) on examples, decoded by `decoder`.
 * `logProbs`: the examples' log-probabilities when the caller has them (the trainer computes them
 * in TensorFlow.js), else computed here from the members.
 */
export function devScore(members: readonly AdapterWeights[], dev: Example[], vocab: Vocabulary, decoder: DevDecoder, logProbs?: Float32Array[]): DevScore {
  let wc = zeroCounts(), cc = zeroCounts(), loss = 0;
  const perUtterance: ErrorCounts[] = [];
  const V = members[0].vocabSize;
  for (const [i, e] of dev.entries()) {
    const lp = logProbs?.[i] ?? adapterLogProbs(members, e.frames, e.T);
    const hyp = decoder.decode(lp, e.T, V);
    const s = scoreUtterance(e.text, hyp);
    perUtterance.push(s.words);
    wc = addCounts(wc, s.words);
    cc = addCounts(cc, s.chars);
    const nll = ctcSequence(lp, 0, e.T, V, e.labels, vocab.blank);
    loss += Number.isFinite(nll) ? nll / e.labels.length : 0;
  }
  return { wer: rate(wc), cer: rate(cc), loss: loss / Math.max(1, dev.length), words: wc.ref, wordCounts: wc, charCounts: cc, n: dev.length, perUtterance };
}

/** Scores of disjoint dev sets (the folds of an ensemble) as one. */
export function pooled(scores: DevScore[]): DevScore {
  if (scores.length === 1) return scores[0];
  const wc = scores.reduce((a, s) => addCounts(a, s.wordCounts), zeroCounts()), cc = scores.reduce((a, s) => addCounts(a, s.charCounts), zeroCounts());
  const n = scores.reduce((a, s) => a + s.n, 0);
  return { wer: rate(wc), cer: rate(cc), loss: scores.reduce((a, s) => a + s.loss * s.n, 0) / Math.max(1, n), words: wc.ref, wordCounts: wc, charCounts: cc, n, perUtterance: scores.flatMap((s) => s.perUtterance) };
}

/**
 * Dev words needed before `train` chooses the adapter's own LM weight and word bonus: with fewer, a
 * grid of settings picks noise. The single adapter's 15% dev set rarely has as many on a few minutes
 * of data (bundled Scottish: about 220 words); an ensemble's folds judge all the data (1,432 words).
 */
export const MIN_TUNE_WORDS = 1000;
/** Relative dev-WER gain an adapter's own decoding needs over the model's before it is used. */
export const TUNE_MARGIN = 0.02;

/**
 * The LM weight and word bonus with the lowest dev WER: a grid around the model's own settings
 * (weights 0.3-1.0, bonuses -1 to +3). Accented speech leaves the acoustic model less sure than the
 * general dev sets the model's settings were tuned on; measured on base-en 2.3.0, every Scottish
 * and zh-L1 adapter did better on test with a heavier LM than the model's (bench: ensemble probe).
 */
export function tuneDecoding(werWith: (o: { lmWeight: number; wordBonus: number }) => number, own: { lmWeight: number; wordBonus: number }): { best: { lmWeight: number; wordBonus: number }; bestWer: number; ownWer: number } {
  const ownWer = werWith(own);
  let best = own, bestWer = ownWer;
  for (const lmWeight of [0.3, 0.5, 0.7, 1.0]) {
    for (const wordBonus of [-1, 0, 1, 2, 3]) {
      if (lmWeight === own.lmWeight && wordBonus === own.wordBonus) continue;
      const w = werWith({ lmWeight, wordBonus });
      if (w < bestWer - 1e-12) { best = { lmWeight, wordBonus }; bestWer = w; }
    }
  }
  return { best, bestWer, ownWer };
}

