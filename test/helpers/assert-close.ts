import assert from 'node:assert/strict';

type Arr = ArrayLike<number>;

/** Largest |a[i] - b[i]| (lengths must match). */
export function maxAbsDiff(a: Arr, b: Arr): number {
  assert.equal(a.length, b.length, `length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** Assert every |actual - expected| <= atol + rtol |expected|, naming the first offender. */
export function assertAllClose(actual: Arr, expected: Arr, atol: number, rtol = 0, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const tol = atol + rtol * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      assert.fail(`${what}[${i}] = ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`);
    }
  }
}
