/** Test signals and measurements. */

export function sine(freqHz: number, rate: number, seconds: number, amp = 1, phase = 0): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * freqHz * i) / rate + phase);
  return x;
}

/**
 * Amplitude of the `freqHz` component of x[start, end) by least squares on sin and cos
 * (exact for a pure tone over any span).
 */
export function toneAmplitude(x: Float32Array, rate: number, freqHz: number, start = 0, end = x.length): number {
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (let i = start; i < end; i++) {
    const w = (2 * Math.PI * freqHz * i) / rate;
    const s = Math.sin(w), c = Math.cos(w);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i] * s; xc += x[i] * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  return Math.hypot(a, b);
}

export function rms(x: Float32Array, start = 0, end = x.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += x[i] * x[i];
  return Math.sqrt(s / (end - start));
}

export { rng } from '../../lib/util/random.js';
