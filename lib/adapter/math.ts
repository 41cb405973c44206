/**
 * The adapter head's forward pass on typed arrays (inference; no TensorFlow.js needed):
 *
 *   n = LayerNorm(h)                    per frame, eps 1e-5, gain and bias
 *   c = [n_{t-k}, ..., n_{t+k}]         temporal context, zero-padded (k = (context - 1) / 2)
 *   y = h + relu(c W_down + b_down) W_up + b_up      (residual bottleneck; W_up starts at zero)
 *   logits = y W_head + b_head
 *
 * Method 'head' skips the adapter (y = h). Method 'top' replaces it with the encoder's own last
 * blocks, fine-tuned (h is then the hidden state that enters them, see TrainableTopSpec):
 *
 *   u = depthwise_conv_k(x) + b_dw       per channel, zero-padded, cross-correlation as in PyTorch
 *   x' = x + SiLU(LayerNorm(u W_pw + b_pw))
 *
 * lib/train/adapter-model.ts computes the same thing in TensorFlow.js for training;
 * test/train/adapter.test.ts checks that the two agree.
 */

import { layerNormRows, logSoftmaxRows, matmulBias } from '../math/matrix.js';

export type AdapterMethod = 'adapter' | 'head' | 'top';

/** One residual conv block of the encoder (method 'top'). */
export interface TopBlock {
  dwW: Float32Array; // (kernel, d)
  dwB: Float32Array; // (d,)
  pwW: Float32Array; // (d, d)
  pwB: Float32Array; // (d,)
  lnG: Float32Array; // (d,)
  lnB: Float32Array; // (d,)
}

/** The tensors of a TopBlock, in file and serialisation order. */
export const TOP_TENSORS: readonly (keyof TopBlock)[] = ['dwW', 'dwB', 'pwW', 'pwB', 'lnG', 'lnB'];

/** Shape of a TopBlock tensor for hidden size d and kernel size k. */
export const topTensorShape = (name: keyof TopBlock, d: number, k: number): number[] => (name === 'dwW' ? [k, d] : name === 'pwW' ? [d, d] : [d]);

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
  /** Method 'top': the fine-tuned blocks and their kernel size. */
  kernel?: number;
  top?: TopBlock[];
}



/** One residual conv block: x (T, d) -> x + SiLU(LayerNorm(depthwise_conv(x) W_pw + b_pw)). */
export function convBlockForward(x: Float32Array, T: number, d: number, kernel: number, b: TopBlock): Float32Array {
  const half = (kernel - 1) >> 1;
  const u = new Float32Array(T * d);
  for (let t = 0; t < T; t++) {
    const o = t * d;
    u.set(b.dwB, o);
    for (let j = 0; j < kernel; j++) {
      const s = t + j - half;
      if (s < 0 || s >= T) continue;
      const xs = s * d, wj = j * d;
      for (let c = 0; c < d; c++) u[o + c] += b.dwW[wj + c] * x[xs + c];
    }
  }
  const z = new Float32Array(T * d);
  matmulBias(u, T, d, b.pwW, b.pwB, d, z);
  layerNormRows(z, T, d, b.lnG, b.lnB, z);
  for (let i = 0; i < z.length; i++) z[i] = x[i] + z[i] / (1 + Math.exp(-z[i]));
  return z;
}

/** Adapted hidden frames y (T, d) for encoder frames h (T, d). */
export function adaptFrames(w: AdapterWeights, h: Float32Array, T: number): Float32Array {
  const d = w.dim;
  if (w.method === 'head') return h;
  if (w.method === 'top') {
    let y = h;
    for (const b of w.top!) y = convBlockForward(y, T, d, w.kernel!, b);
    return y;
  }
  const r = w.bottleneck, ctx = w.context, k = (ctx - 1) >> 1;
  const n = new Float32Array(T * d);
  layerNormRows(h, T, d, w.lnGain!, w.lnBias!, n);
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

/**
 * Log-probabilities (T, V) of an adapter for encoder frames h (T, d). An ensemble (`train --ensemble`)
 * averages its members' posteriors frame by frame: log(mean_k exp(logp_k)), computed stably.
 */
export function adapterLogProbs(members: readonly AdapterWeights[], h: Float32Array, T: number): Float32Array {
  const V = members[0].vocabSize;
  const out = adapterLogits(members[0], h, T);
  logSoftmaxRows(out, T, V);
  if (members.length === 1) return out;
  const others = members.slice(1).map((w) => {
    const lp = adapterLogits(w, h, T);
    logSoftmaxRows(lp, T, V);
    return lp;
  });
  const logK = Math.log(members.length);
  for (let i = 0; i < out.length; i++) {
    let m = out[i];
    for (const lp of others) if (lp[i] > m) m = lp[i];
    if (m === -Infinity) continue;
    let s = Math.exp(out[i] - m);
    for (const lp of others) s += Math.exp(lp[i] - m);
    out[i] = m + Math.log(s) - logK;
  }
  return out;
}
