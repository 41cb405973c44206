/**
 * Token-passing Viterbi search over an HmmGraph (hmm-graph.ts): senone log-likelihoods per frame in,
 * the best word sequence under a word n-gram LM out, with cross-word triphones.
 *
 * One copy of the lexical tree; each HMM state keeps its best token (score, the word history it
 * came from, the frame its word began), so hypotheses that reach the same state are recombined, as
 * in PocketSphinx's first pass. Per frame:
 *   1. tokens enter word-initial HMMs from the (left phone, right phone) slots that the previous
 *      frame's word ends filled, and silence from every slot whose right phone is SIL;
 *   2. every active HMM takes one Viterbi step (stay or advance, transition matrix, senone score);
 *   3. HMMs below best - beam are dropped; the survivors pass tokens to their children, charged
 *      the change in LM look-ahead; a word-final HMM that exits within best - wordBeam ends its
 *      words: the look-ahead is replaced by lmWeight * ln P(word | two words before) and the word
 *      penalty, and a back-pointer is recorded. With `reselect`, the word's predecessor is first chosen
 *      again among every word and pause end of the frame before the word began (kept per frame and
 *      right phone), by exit score plus this word's trigram: a tree node keeps one token, so the
 *      predecessor it carries was the best before the word was known.
 * Scores are natural-log acoustic likelihoods; lmWeight scales the LM against them (PocketSphinx's
 * -lw), and wordPenalty and silencePenalty are nats added per word and per pause.
 *
 * Arrays are allocated once per search (the active list, back-pointers and word ends double when full); the only
 * per-frame work outside them is the LM lookup of a word ending in a new context (cached per history and word).
 * Not yet behind a bundled model: recipes/base-en-real/probe-hmm-search.ts measures it.
 */
import { kthLargest } from '../math/select.js';
import type { ArpaLm } from './arpa.js';
import type { HmmGraph } from './hmm-graph.js';

export interface HmmSearchOptions {
  lm: ArpaLm;
  /** Word id -> spelling (the ids HmmGraph.build was given). */
  words: readonly string[];
  /** Weight of ln P_LM against the acoustic log-likelihoods (default 6.5, PocketSphinx's). */
  lmWeight?: number;
  /** Nats added per word (default 6.5 ln 0.65, PocketSphinx's -wip scaled by -lw). */
  wordPenalty?: number;
  /** Nats added per pause (default 6.5 ln 0.005, PocketSphinx's -silprob scaled by -lw). */
  silencePenalty?: number;
  /** HMMs scoring more than this below the frame's best are dropped (default 110 nats, PocketSphinx's 1e-48). */
  beam?: number;
  /** Words end only within this of the frame's best (default 65 nats, PocketSphinx's 7e-29). */
  wordBeam?: number;
  /** At most this many HMMs stay active after a frame, the best (default 30000, PocketSphinx's -maxhmmpf). */
  maxActive?: number;
  /**
   * When a word ends, choose its predecessor again among every word end (and pause) of the frame
   * before it began, now that the word is known: the best by exit score plus the trigram of this
   * word after it (default true; PocketSphinx's first pass does the same). Without it, the one tree
   * copy keeps only the predecessor that was best before the word was known.
   */
  reselect?: boolean;
}

export interface HmmWord { word: string; start: number; end: number }
export interface HmmResult {
  words: HmmWord[];
  /** Total log score of the best path (acoustic + weighted LM + penalties); -Infinity if none. */
  score: number;
  /** Most HMMs active in one frame. */
  peakActive: number;
  /** Every word that ended within the word beam somewhere (ids, ascending): the candidates of a second pass. */
  candidates: Int32Array;
}

export const HMM_SEARCH_DEFAULTS = { lmWeight: 6.5, wordPenalty: 6.5 * Math.log(0.65), silencePenalty: 6.5 * Math.log(0.005), beam: 110, wordBeam: 65, maxActive: 30000, reselect: true };

/**
 * The best word sequence for `emit` (T frames of S senone log-likelihoods, row-major) through
 * `graph`; word times in seconds at `frameShift` per frame.
 */
export function hmmSearch(graph: HmmGraph, emit: Float32Array, T: number, S: number, frameShift: number, options: HmmSearchOptions): HmmResult {
  const o = { ...HMM_SEARCH_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<HmmSearchOptions>;
  if (S !== graph.topology.senones) throw new RangeError(`emissions have ${S} senones per frame, the model ${graph.topology.senones}`);
  if (emit.length < T * S) throw new RangeError(`emissions hold ${emit.length} values, fewer than ${T} x ${S}`);
  const { lm, words: vocab, lmWeight, wordPenalty, silencePenalty, beam, wordBeam, maxActive, reselect } = o;
  const N = graph.size, P = graph.phones, SIL = graph.sil;
  const { senone, tmat, lookAhead: la, kidStart, kidEnd, kids, lastPhone, wordStart, wordList, rightStart, rightList } = graph;
  const { selfLp, nextLp } = graph.topology;
  // Tokens: score, back-pointer (-1: sentence start) and start frame of the word, per HMM state.
  // For re-selection, also the score the word was entered with (its predecessor's exit) and the word's first phone.
  const sc = new Float32Array(N * 3).fill(-Infinity), bp = new Int32Array(N * 3).fill(-1), st = new Int32Array(N * 3);
  const en = new Float32Array(N * 3), fp = new Int16Array(N * 3);
  const inSc = new Float32Array(N).fill(-Infinity), inBp = new Int32Array(N).fill(-1), inSt = new Int32Array(N), inEn = new Float32Array(N), inFp = new Int16Array(N);
  const listed = new Int32Array(N).fill(-1);
  let act = new Int32Array(1024), nAct = 0, next = new Int32Array(1024), nNext = 0;
  const push = (n: number, frame: number): void => {
    if (listed[n] === frame) return;
    listed[n] = frame;
    if (nNext === next.length) { const g = new Int32Array(next.length * 2); g.set(next); next = g; }
    next[nNext++] = n;
  };
  // Slots (left phone L, right phone R): the best word end of the last frame; and this frame's.
  let slot = new Float64Array(P * P).fill(-Infinity), slotBp = new Int32Array(P * P).fill(-1);
  let nslot = new Float64Array(P * P), nslotBp = new Int32Array(P * P);
  for (let r = 0; r < P; r++) slot[SIL * P + r] = 0; // the utterance starts after silence
  // Back-pointers: word, previous back-pointer, start and end frame.
  let bW = new Int32Array(1024), bPrev = new Int32Array(1024), bStart = new Int32Array(1024), bEnd = new Int32Array(1024), nB = 0;
  const record = (w: number, prev: number, start: number, end: number): number => {
    if (nB === bW.length) {
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => { const g = new Int32Array(a.length * 2); g.set(a); return g; };
      bW = grow(bW); bPrev = grow(bPrev); bStart = grow(bStart); bEnd = grow(bEnd);
    }
    bW[nB] = w; bPrev[nB] = prev; bStart[nB] = start; bEnd[nB] = end;
    return nB++;
  };
  // Every word end and pause end of each frame, per right phone (for re-selection): gathered during the
  // frame (tR, tB, tV), then sorted by right phone into xB, xV, with frame f's bucket r at
  // [xOff[f * (P + 1) + r], xOff[f * (P + 1) + r + 1]).
  let tR = new Int16Array(1024), tB = new Int32Array(1024), tV = new Float32Array(1024), nT = 0;
  let xB = new Int32Array(1024), xV = new Float32Array(1024), nX = 0;
  const xOff = new Int32Array(reselect ? T * (P + 1) : 0), fill = new Int32Array(P);
  const exit = (r: number, b: number, v: number): void => {
    if (nT === tR.length) {
      const r2 = new Int16Array(nT * 2), b2_ = new Int32Array(nT * 2), v2 = new Float32Array(nT * 2);
      r2.set(tR); b2_.set(tB); v2.set(tV); tR = r2; tB = b2_; tV = v2;
    }
    tR[nT] = r; tB[nT] = b; tV[nT] = v; nT++;
  };
  const closeFrame = (t: number): void => {
    if (nX + nT > xB.length) {
      const cap = Math.max(xB.length * 2, nX + nT), b2_ = new Int32Array(cap), v2 = new Float32Array(cap);
      b2_.set(xB.subarray(0, nX)); v2.set(xV.subarray(0, nX)); xB = b2_; xV = v2;
    }
    const o = t * (P + 1);
    fill.fill(0);
    for (let i = 0; i < nT; i++) fill[tR[i]]++;
    let at = nX;
    for (let r = 0; r < P; r++) { xOff[o + r] = at; const c = fill[r]; fill[r] = at; at += c; }
    xOff[o + P] = at;
    for (let i = 0; i < nT; i++) { const k = fill[tR[i]]++; xB[k] = tB[i]; xV[k] = tV[i]; }
    nX += nT;
    nT = 0;
  };
  const history = (b: number): string[] => (b < 0 ? ['<s>'] : bPrev[b] < 0 ? ['<s>', vocab[bW[b]]] : [vocab[bW[bPrev[b]]], vocab[bW[b]]]);
  const cache = new Map<number, number>();
  const lmScore = (b: number, w: number): number => {
    const k = (b + 1) * vocab.length + w;
    let v = cache.get(k);
    if (v === undefined) { v = lmWeight * lm.logProb(history(b), vocab[w]); cache.set(k, v); }
    return v;
  };
  // Silence: one HMM outside the tree; its exits keep the history they came with.
  const sen = graph.silence, sTm = sen[3] * 3;
  let s0 = -Infinity, s1 = -Infinity, s2 = -Infinity, b0 = -1, b1 = -1, b2 = -1;
  let thrPrev = -Infinity, peak = 0;
  let tops = new Float64Array(0), work = new Float64Array(0);

  for (let t = 0; t < T; t++) {
    const e = t * S;
    // 1. Entries: word-initial HMMs from the slots, silence from the slots whose right phone is SIL.
    for (const r of graph.roots) {
      let v = -Infinity, h = -1;
      for (let i = 0; i < r.lefts.length; i++) {
        const k = r.lefts[i] * P + r.first;
        if (slot[k] > v) { v = slot[k]; h = slotBp[k]; }
      }
      const entered = v;
      v += la[r.node];
      if (!(v >= thrPrev)) continue;
      if (v > inSc[r.node]) { inSc[r.node] = v; inBp[r.node] = h; inSt[r.node] = t; inEn[r.node] = entered; inFp[r.node] = r.first; }
      push(r.node, t);
    }
    let silIn = -Infinity, silBp = -1;
    for (let l = 0; l < P; l++) if (slot[l * P + SIL] > silIn) { silIn = slot[l * P + SIL]; silBp = slotBp[l * P + SIL]; }
    silIn += silencePenalty;
    [act, next] = [next, act];
    nAct = nNext; nNext = 0;
    if (nAct > peak) peak = nAct;
    // 2. One Viterbi step in every listed HMM (states from last to first, so each reads last frame's values).
    let best = -Infinity;
    for (let i = 0; i < nAct; i++) {
      const n = act[i], x = n * 3, m = tmat[n] * 3;
      let a = sc[x + 2] + selfLp[m + 2], b = sc[x + 1] + nextLp[m + 1];
      if (a >= b) sc[x + 2] = a + emit[e + senone[x + 2]]; else { sc[x + 2] = b + emit[e + senone[x + 2]]; bp[x + 2] = bp[x + 1]; st[x + 2] = st[x + 1]; en[x + 2] = en[x + 1]; fp[x + 2] = fp[x + 1]; }
      a = sc[x + 1] + selfLp[m + 1]; b = sc[x] + nextLp[m];
      if (a >= b) sc[x + 1] = a + emit[e + senone[x + 1]]; else { sc[x + 1] = b + emit[e + senone[x + 1]]; bp[x + 1] = bp[x]; st[x + 1] = st[x]; en[x + 1] = en[x]; fp[x + 1] = fp[x]; }
      a = sc[x] + selfLp[m]; b = inSc[n];
      if (a >= b) sc[x] = a + emit[e + senone[x]]; else { sc[x] = b + emit[e + senone[x]]; bp[x] = inBp[n]; st[x] = inSt[n]; en[x] = inEn[n]; fp[x] = inFp[n]; }
      inSc[n] = -Infinity;
      const top = Math.max(sc[x], sc[x + 1], sc[x + 2]);
      if (top > best) best = top;
    }
    {
      let a = s2 + selfLp[sTm + 2], b = s1 + nextLp[sTm + 1];
      if (a >= b) s2 = a + emit[e + sen[2]]; else { s2 = b + emit[e + sen[2]]; b2 = b1; }
      a = s1 + selfLp[sTm + 1]; b = s0 + nextLp[sTm];
      if (a >= b) s1 = a + emit[e + sen[1]]; else { s1 = b + emit[e + sen[1]]; b1 = b0; }
      a = s0 + selfLp[sTm]; b = silIn;
      if (a >= b) s0 = a + emit[e + sen[0]]; else { s0 = b + emit[e + sen[0]]; b0 = silBp; }
      best = Math.max(best, s0, s1, s2);
    }
    // 3. Prune (to the beam, and to the maxActive best HMMs), pass tokens on, end words.
    let thr = best - beam;
    const wthr = best - wordBeam;
    if (nAct > maxActive) {
      if (tops.length < nAct) { tops = new Float64Array(nAct * 2); work = new Float64Array(nAct * 2); }
      for (let i = 0; i < nAct; i++) { const x = act[i] * 3; tops[i] = Math.max(sc[x], sc[x + 1], sc[x + 2]); }
      thr = Math.max(thr, kthLargest(tops, nAct, maxActive, work));
    }
    nslot.fill(-Infinity);
    for (let i = 0; i < nAct; i++) {
      const n = act[i], x = n * 3;
      if (Math.max(sc[x], sc[x + 1], sc[x + 2]) < thr) { sc[x] = sc[x + 1] = sc[x + 2] = -Infinity; continue; }
      push(n, t + 1);
      const out = sc[x + 2] + nextLp[tmat[n] * 3 + 2];
      if (out < thr) continue;
      for (let k = kidStart[n]; k < kidEnd[n]; k++) {
        const c = kids[k], v = out + la[c] - la[n];
        if (v < thr) continue;
        if (v > inSc[c]) { inSc[c] = v; inBp[c] = bp[x + 2]; inSt[c] = st[x + 2]; inEn[c] = en[x + 2]; inFp[c] = fp[x + 2]; }
        push(c, t + 1);
      }
      if (lastPhone[n] < 0 || out < wthr) continue;
      const h0 = bp[x + 2], s0f = st[x + 2], L = lastPhone[n] * P;
      // Candidate predecessors: the exits of the frame before the word began that lead into its first phone.
      const xo = (s0f - 1) * (P + 1) + fp[x + 2], c0 = reselect && s0f > 0 ? xOff[xo] : 0, c1 = reselect && s0f > 0 ? xOff[xo + 1] : 0;
      const own = out - la[n] - en[x + 2] + wordPenalty; // this word's own score, without its predecessor's exit
      for (let j = wordStart[n]; j < wordStart[n + 1]; j++) {
        const w = wordList[j];
        let h = h0, v = out - la[n] + lmScore(h0, w) + wordPenalty;
        if (c1 > c0) {
          for (let c = c0; c < c1; c++) {
            const u = own + xV[c] + lmScore(xB[c], w);
            if (u > v) { v = u; h = xB[c]; }
          }
        }
        if (v < wthr) continue;
        let b = -1;
        for (let q = rightStart[n]; q < rightStart[n + 1]; q++) {
          const k = L + rightList[q];
          if (reselect) { if (b < 0) b = record(w, h, s0f, t); exit(rightList[q], b, v); }
          if (v > nslot[k]) {
            if (b < 0) b = record(w, h, s0f, t);
            nslot[k] = v; nslotBp[k] = b;
          }
        }
      }
    }
    const silOut = s2 + nextLp[sTm + 2];
    if (silOut >= thr) for (let r = 0; r < P; r++) {
      if (reselect) exit(r, b2, silOut);
      if (silOut > nslot[SIL * P + r]) { nslot[SIL * P + r] = silOut; nslotBp[SIL * P + r] = b2; }
    }
    if (reselect) closeFrame(t);
    if (s0 < thr) s0 = -Infinity;
    if (s1 < thr) s1 = -Infinity;
    if (s2 < thr) s2 = -Infinity;
    [slot, nslot] = [nslot, slot];
    [slotBp, nslotBp] = [nslotBp, slotBp];
    thrPrev = thr;
  }
  // The end: a word (or a pause) followed by silence, then </s>.
  let score = -Infinity, end = -1;
  const close = (v: number, b: number): void => {
    const f = v + lmWeight * lm.logProb(history(b), '</s>');
    if (f > score) { score = f; end = b; }
  };
  for (let l = 0; l < P; l++) if (slot[l * P + SIL] > -Infinity) close(slot[l * P + SIL], slotBp[l * P + SIL]);
  if (reselect && T > 0) for (let c = xOff[(T - 1) * (P + 1) + SIL]; c < xOff[(T - 1) * (P + 1) + SIL + 1]; c++) close(xV[c], xB[c]);
  const words: HmmWord[] = [];
  for (let b = end; b >= 0; b = bPrev[b]) words.push({ word: vocab[bW[b]], start: bStart[b] * frameShift, end: (bEnd[b] + 1) * frameShift });
  const seen = new Uint8Array(vocab.length);
  for (let b = 0; b < nB; b++) seen[bW[b]] = 1;
  const candidates: number[] = [];
  for (let w = 0; w < seen.length; w++) if (seen[w]) candidates.push(w);
  return { words: words.reverse(), score, peakActive: peak, candidates: Int32Array.from(candidates) };
}
