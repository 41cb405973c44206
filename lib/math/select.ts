/** Order statistics on typed arrays, without sorting. */

/**
 * The k-th largest of xs[0 .. n) (1 <= k <= n), by quickselect on a copy in `work`. The values must be
 * comparable (no NaN).
 */
export function kthLargest(xs: Float64Array, n: number, k: number, work: Float64Array): number {
  work.set(xs.subarray(0, n));
  let lo = 0, hi = n - 1;
  const want = k - 1; // index in descending order
  while (lo < hi) {
    // Median of three as the pivot; partition into > pivot | == pivot | < pivot (descending).
    const a = work[lo], b = work[(lo + hi) >> 1], c = work[hi];
    const pivot = a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
    let lt = lo, i = lo, gt = hi;
    while (i <= gt) {
      const v = work[i];
      if (v > pivot) { work[i] = work[lt]; work[lt] = v; lt++; i++; }
      else if (v < pivot) { work[i] = work[gt]; work[gt] = v; gt--; }
      else i++;
    }
    if (want < lt) hi = lt - 1;
    else if (want > gt) lo = gt + 1;
    else return pivot;
  }
  return work[want];
}
