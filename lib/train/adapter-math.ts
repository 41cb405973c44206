/**
 * The adapter head's forward pass on typed arrays (inference; no TensorFlow.js needed):
 *
 *   n = LayerNorm(h)                    per frame, eps 1e-5, gain and bias
 *   c = [n_{t-k}, ..., n_{t+k}]         temporal context, zero-padded (k = (context - 1) / 2)
 *   y = h + relu(c W_down + b_down) W_up + b_up      (residual bottleneck; W_up starts at zero)
 *   logits = y W_head + b_head
 *
 * Method 'head' skips the adapter (y = h). lib/train/adapter-model.ts computes the same thing in
 * TensorFlow.js for training; test/train/adapter.test.ts checks that the two agree.
 */

export type AdapterMethod = 'adapter' | 'head';

/** Weights of an adapter head; matrices row-major (in, out). */
export interface AdapterWeights {
  method: AdapterMethod;
  dim: number;
  vocabSize: number;
  /** Bottleneck size r and context frames (odd) of the adapter. */
  bottleneck: number;
  context: number;
  lnGain?: Float32Array; // (d,)
  lnBias?: Float32Array; // (d,)
  downW?: Float32Array; // (context * d, r)
  downB?: Float32Array; // (r,)
  upW?: Float32Array; // (r, d)
  upB?: Float32Array; // (d,)
  headW: Float32Array; // (d, V)
  headB: Float32Array; // (V,)
}

export const LN_EPS = 1e-5;

/** out (T, N) = x (T, K) W (K, N) + b, all row-major; zero inputs are skipped. */
export function matmulBias(x: Float32Array, T: number, K: number, W: Float32Array, b: Float32Array, N: number, out: Float32Array): void {
  for (let t = 0; t < T; t++) {
    const o = t * N, xi = t * K;
    for (let n = 0; n < N; n++) out[o + n] = b[n];
    for (let k = 0; k < K; k++) {
      const v = x[xi + k];
      if (v === 0) continue;
      const w = k * N;
      for (let n = 0; n < N; n++) out[o + n] += v * W[w + n];
    }
  }
}

/** Adapted hidden frames y (T, d) for encoder frames h (T, d). */
export function adaptFrames(w: AdapterWeights, h: Float32Array, T: number): Float32Array {
  const d = w.dim;
  if (w.method === 'head') return h;
  const r = w.bottleneck, ctx = w.context, k = (ctx - 1) >> 1;
  const n = new Float32Array(T * d);
  for (let t = 0; t < T; t++) {
    let mean = 0, sq = 0;
    for (let i = 0; i < d; i++) mean += h[t * d + i];
    mean /= d;
    for (let i = 0; i < d; i++) sq += (h[t * d + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(sq / d + LN_EPS);
    for (let i = 0; i < d; i++) n[t * d + i] = (h[t * d + i] - mean) * inv * w.lnGain![i] + w.lnBias![i];
  }
  const c = new Float32Array(T * ctx * d);
  for (let t = 0; t < T; t++) {
    for (let j = -k; j <= k; j++) {
      const s = t + j;
      if (s >= 0 && s < T) c.set(n.subarray(s * d, (s + 1) * d), t * ctx * d + (j + k) * d);
    }
  }
  const z = new Float32Array(T * r);
  matmulBias(c, T, ctx * d, w.downW!, w.downB!, r, z);
  for (let i = 0; i < z.length; i++) if (z[i] < 0) z[i] = 0;
  const y = new Float32Array(T * d);
  matmulBias(z, T, r, w.upW!, w.upB!, d, y);
  for (let i = 0; i < y.length; i++) y[i] += h[i];
  return y;
}

/** Logits (T, V) of the adapted head for encoder frames h (T, d). */
export function adapterLogits(w: AdapterWeights, h: Float32Array, T: number): Float32Array {
  const y = adaptFrames(w, h, T);
  const out = new Float32Array(T * w.vocabSize);
  matmulBias(y, T, w.dim, w.headW, w.headB, w.vocabSize, out);
  return out;
}
