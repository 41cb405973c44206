/**
 * Two passes of the HMM search, in the manner of PocketSphinx's fwdtree and fwdflat passes:
 *   1. the whole dictionary's tree at the first-pass LM weight (hmmSearch, hmm-search.ts); every word
 *      that ends within its word beam somewhere becomes a candidate;
 *   2. a tree of the candidates alone, searched again at a heavier LM weight (PocketSphinx's
 *      -fwdflatlw, 8.5 against -lw 6.5), with the word and pause penalties scaled by it as well.
 * The second tree is a few hundred to a few thousand words, so it builds in milliseconds and its search
 * keeps every hypothesis the first pass's pruning would have cut between them.
 */
import type { ArpaLm } from './arpa.js';
import { HmmGraph } from './hmm-graph.js';
import { HMM_SEARCH_DEFAULTS, hmmSearch, type HmmResult, type HmmSearchOptions } from './hmm-search.js';

/** PocketSphinx's second-pass (fwdflat) LM weight, and its word insertion and pause probabilities. */
export const SECOND_PASS = { lmWeight: 8.5, wip: 0.65, silprob: 0.005 };

export interface TwoPassOptions extends HmmSearchOptions {
  /** Pronunciations of word id w (the ids `graph` was built with). */
  prons: (w: number) => readonly (readonly string[])[] | undefined;
  /** LM weight of the second pass (default SECOND_PASS.lmWeight); 0 skips the second pass. */
  secondLmWeight?: number;
  /** Weight of the unigram look-ahead in the second pass's tree (default: the first pass's LM weight, 6.5). */
  secondLookAhead?: number;
}

export interface TwoPassResult extends HmmResult {
  /** The first pass's words (the result's words are the second pass's). */
  firstPass: HmmResult['words'];
  /** Words in the second pass's tree. */
  secondPassWords: number;
  /** Seconds each pass took (the second's includes building its tree). */
  seconds: { first: number; second: number };
}

/** The weighted unigram look-ahead that hmmSearch's tree charges in advance. */
export const unigramLookAhead = (lm: ArpaLm, words: readonly string[], lmWeight: number) => (w: number): number => lmWeight * lm.unigram(words[w]);

/**
 * Decode `emit` (T frames of S senone log-likelihoods) in two passes (see the file comment). `graph`
 * is the whole dictionary's tree, built with unigramLookAhead at the first pass's LM weight.
 */
export function hmmTwoPass(graph: HmmGraph, emit: Float32Array, T: number, S: number, frameShift: number, options: TwoPassOptions): TwoPassResult {
  const t0 = performance.now();
  const first = hmmSearch(graph, emit, T, S, frameShift, options);
  const t1 = performance.now();
  const lw2 = options.secondLmWeight ?? SECOND_PASS.lmWeight;
  if (!(lw2 > 0) || first.candidates.length === 0) return { ...first, firstPass: first.words, secondPassWords: 0, seconds: { first: (t1 - t0) / 1000, second: 0 } };
  const words = Array.from(first.candidates, (w) => options.words[w]);
  const prons: [number, readonly string[]][] = [];
  first.candidates.forEach((w, k) => { for (const p of options.prons(w) ?? []) prons.push([k, p]); });
  const la = options.secondLookAhead ?? options.lmWeight ?? HMM_SEARCH_DEFAULTS.lmWeight;
  const small = HmmGraph.build(graph.topology, prons, unigramLookAhead(options.lm, words, la));
  const second = hmmSearch(small, emit, T, S, frameShift, {
    ...options, words, lmWeight: lw2,
    wordPenalty: lw2 * Math.log(SECOND_PASS.wip), silencePenalty: lw2 * Math.log(SECOND_PASS.silprob),
  });
  return { ...second, peakActive: Math.max(first.peakActive, second.peakActive), candidates: first.candidates, firstPass: first.words, secondPassWords: words.length,
    seconds: { first: (t1 - t0) / 1000, second: (performance.now() - t1) / 1000 } };
}
