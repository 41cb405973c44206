/**
 * Word and character error rates from a Levenshtein alignment (substitution, deletion and
 * insertion all cost 1), on normalised text. Among alignments of minimal cost, ties are broken as
 * NIST sclite does by default: prefer a correct or substituted pair, then deletion, then insertion.
 */
import { normalizeText } from '../text/normalize.js';

export interface ErrorCounts {
  /** Reference tokens (words or characters). */
  ref: number;
  substitutions: number;
  deletions: number;
  insertions: number;
}

export const errors = (c: ErrorCounts): number => c.substitutions + c.deletions + c.insertions;
export const rate = (c: ErrorCounts): number => (c.ref === 0 ? (errors(c) === 0 ? 0 : 1) : errors(c) / c.ref);

/**
 * Align two token sequences; counts of each error kind. O(n*m) time, O(m) rows of Int32Array for
 * costs plus an (n+1)*(m+1) byte array of back-pointers.
 */
export function align<T>(ref: readonly T[], hyp: readonly T[]): ErrorCounts {
  const n = ref.length, m = hyp.length;
  const back = new Uint8Array((n + 1) * (m + 1)); // 0 diag, 1 deletion (up), 2 insertion (left)
  let prev = new Int32Array(m + 1), cur = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) { prev[j] = j; back[j] = 2; }
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    back[i * (m + 1)] = 1;
    for (let j = 1; j <= m; j++) {
      const diag = prev[j - 1] + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      const del = prev[j] + 1, ins = cur[j - 1] + 1;
      let best = diag, b = 0;
      if (del < best) { best = del; b = 1; }
      if (ins < best) { best = ins; b = 2; }
      cur[j] = best;
      back[i * (m + 1) + j] = b;
    }
    [prev, cur] = [cur, prev];
  }
  const c: ErrorCounts = { ref: n, substitutions: 0, deletions: 0, insertions: 0 };
  for (let i = n, j = m; i > 0 || j > 0;) {
    const b = i === 0 ? 2 : j === 0 ? 1 : back[i * (m + 1) + j];
    if (b === 0) { if (ref[i - 1] !== hyp[j - 1]) c.substitutions++; i--; j--; } else if (b === 1) { c.deletions++; i--; } else { c.insertions++; j--; }
  }
  return c;
}

export const words = (s: string): string[] => (s ? s.split(' ') : []);
/** Characters of the normalised text, spaces excluded (so word-boundary errors do not count twice). */
export const chars = (s: string): string[] => [...s.replace(/ /g, '')];

/** Word and character error counts of one utterance, after normalising both texts. */
export function scoreUtterance(reference: string, hypothesis: string): { words: ErrorCounts; chars: ErrorCounts } {
  const r = normalizeText(reference), h = normalizeText(hypothesis);
  return { words: align(words(r), words(h)), chars: align(chars(r), chars(h)) };
}

/** Sum error counts. */
export function addCounts(a: ErrorCounts, b: ErrorCounts): ErrorCounts {
  return { ref: a.ref + b.ref, substitutions: a.substitutions + b.substitutions, deletions: a.deletions + b.deletions, insertions: a.insertions + b.insertions };
}

export const zeroCounts = (): ErrorCounts => ({ ref: 0, substitutions: 0, deletions: 0, insertions: 0 });
