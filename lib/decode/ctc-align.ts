/**
 * CTC forced alignment: the most likely frame path (Viterbi) for a given symbol sequence, used to
 * time the words of a beam-search result. States interleave blanks: b s1 b s2 ... sL b.
 */
import type { Emission } from './ctc-greedy.js';

/**
 * @param logp (T, V) log-probabilities, row-major
 * @param labels the symbol ids to align (no blanks)
 * @returns one emission per label (first/last frame of its run, best log-prob), or null if T is too short
 */
export function ctcAlign(logp: Float32Array, T: number, V: number, labels: readonly number[], blank: number): Emission[] | null {
  const L = labels.length;
  if (L === 0) return [];
  const S = 2 * L + 1;
  const sym = (s: number): number => (s % 2 === 0 ? blank : labels[(s - 1) >> 1]);
  let prev = new Float64Array(S).fill(-Infinity), cur = new Float64Array(S);
  const back = new Int8Array(T * S); // 0 stay, 1 from s-1, 2 from s-2
  prev[0] = logp[sym(0)];
  prev[1] = logp[sym(1)];
  for (let t = 1; t < T; t++) {
    const o = t * V;
    for (let s = 0; s < S; s++) {
      let best = prev[s], b = 0;
      if (s >= 1 && prev[s - 1] > best) { best = prev[s - 1]; b = 1; }
      if (s >= 2 && s % 2 === 1 && sym(s) !== sym(s - 2) && prev[s - 2] > best) { best = prev[s - 2]; b = 2; }
      cur[s] = best + logp[o + sym(s)];
      back[t * S + s] = b;
    }
    [prev, cur] = [cur, prev];
  }
  let s = prev[S - 1] >= prev[S - 2] ? S - 1 : S - 2;
  if (!Number.isFinite(prev[s])) return null;
  const out: Emission[] = labels.map((id) => ({ id, first: -1, last: -1, logp: -Infinity }));
  for (let t = T - 1; t >= 0; t--) {
    if (s % 2 === 1) {
      const e = out[(s - 1) >> 1];
      if (e.last < 0) e.last = t;
      e.first = t;
      const lp = logp[t * V + sym(s)];
      if (lp > e.logp) e.logp = lp;
    }
    if (t > 0) s -= back[t * S + s];
  }
  return out;
}
