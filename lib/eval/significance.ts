/**
 * Paired bootstrap of a WER difference (Koehn 2004; Bisani & Ney 2004): resample the utterances
 * with replacement, recompute both systems' WER on each resample, and report how often system B
 * is not better than system A. A small value means B's gain is unlikely to be luck of the sample.
 */
import { rng } from '../util/random.js';
import { errors, type ErrorCounts } from './wer.js';

/**
 * @param a per-utterance word error counts of the reference system (e.g. the base model)
 * @param b the same utterances scored for the candidate (e.g. the adapted model)
 * @returns the fraction of resamples in which b's WER is >= a's (a one-sided p-value)
 */
export function pairedBootstrap(a: readonly ErrorCounts[], b: readonly ErrorCounts[], resamples = 2000, seed = 1): number {
  if (a.length !== b.length) throw new RangeError(`paired bootstrap needs the same utterances: ${a.length} vs ${b.length}`);
  const n = a.length;
  if (n === 0) return 1;
  const ea = new Float64Array(n), eb = new Float64Array(n);
  for (let i = 0; i < n; i++) { ea[i] = errors(a[i]); eb[i] = errors(b[i]); }
  const r = rng(seed);
  let notBetter = 0;
  for (let k = 0; k < resamples; k++) {
    // Both systems share the reference words of a resample, so comparing error totals compares WERs.
    let da = 0, db = 0;
    for (let i = 0; i < n; i++) {
      const j = Math.floor(r() * n);
      da += ea[j];
      db += eb[j];
    }
    if (db >= da) notBetter++;
  }
  return notBetter / resamples;
}
