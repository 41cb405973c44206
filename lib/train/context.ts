/**
 * The adapter's input stage for TensorFlow.js training: LayerNorm with gain and bias, padding set
 * to zero, and the context window, as one op with its gradient written out by hand. Built from tf
 * ops (moments, pad, a slice per offset, concat), its backward pass (SplitV, one padded gradient
 * per slice, their sum, the LayerNorm's chain) took about a third of a gradient step on the wasm
 * backend; here each direction is one pass over typed arrays. The input h is the frozen encoder's
 * output, so only the gain and bias get gradients. With k = (context - 1) / 2:
 *   x^[t, i] = (h[t, i] - mean_t) / sqrt(var_t + eps);   n[t, i] = valid[t] (gain[i] x^[t, i] + bias[i])
 *   c[b, t, j*d + i] = n[b, t + j - k, i]   (zero outside 0..T-1)
 *   dn[b, s, i] = sum_j dc[b, s - j + k, j*d + i];  dgain[i] = sum dn x^ valid;  dbias[i] = sum dn valid
 */
import type * as TF from '@tensorflow/tfjs';
import { LN_EPS } from '../math/matrix.js';

/**
 * LayerNorm of h (B, T, d) with gain and bias (d,), zero where `valid` (B * T, 1 for real frames;
 * absent: all real), then frames t - k .. t + k side by side: (B * T, context * d).
 */
export function normContext(tf: typeof TF, h: TF.Tensor3D, gain: TF.Tensor1D, bias: TF.Tensor1D, context: number, valid?: Float32Array): TF.Tensor2D {
  // customGrad's signature is variadic (inputs..., save); three inputs here, nothing saved.
  const op = tf.customGrad(((ht: TF.Tensor3D, gt: TF.Tensor1D, bt: TF.Tensor1D) => {
    const [B, T, d] = ht.shape;
    const k = (context - 1) >> 1, w = context * d, N = B * T;
    const hv = ht.dataSync() as Float32Array, g = gt.dataSync() as Float32Array, bv = bt.dataSync() as Float32Array;
    const xh = new Float32Array(N * d), n = new Float32Array(N * d);
    for (let f = 0; f < N; f++) {
      if (valid && valid[f] === 0) continue; // n stays 0 (x^ is not needed there)
      const o = f * d;
      let mean = 0;
      for (let i = 0; i < d; i++) mean += hv[o + i];
      mean /= d;
      let v = 0;
      for (let i = 0; i < d; i++) { const u = hv[o + i] - mean; v += u * u; }
      const inv = 1 / Math.sqrt(v / d + LN_EPS);
      for (let i = 0; i < d; i++) {
        const x = (hv[o + i] - mean) * inv;
        xh[o + i] = x;
        n[o + i] = g[i] * x + bv[i];
      }
    }
    const c = new Float32Array(N * w);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const o = (b * T + t) * w;
        for (let j = 0; j < context; j++) {
          const s = t + j - k;
          if (s >= 0 && s < T) c.set(n.subarray((b * T + s) * d, (b * T + s + 1) * d), o + j * d);
        }
      }
    }
    const value = tf.tensor2d(c, [N, w]);
    const gradFunc = (dy: TF.Tensor): TF.Tensor[] => {
      const dc = dy.dataSync() as Float32Array;
      const dg = new Float32Array(d), db = new Float32Array(d), dn = new Float32Array(d);
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < T; s++) {
          const f = b * T + s;
          if (valid && valid[f] === 0) continue;
          dn.fill(0);
          for (let j = 0; j < context; j++) {
            const t = s - j + k;
            if (t < 0 || t >= T) continue;
            const o = (b * T + t) * w + j * d;
            for (let i = 0; i < d; i++) dn[i] += dc[o + i];
          }
          const o = f * d;
          for (let i = 0; i < d; i++) { dg[i] += dn[i] * xh[o + i]; db[i] += dn[i]; }
        }
      }
      // h is the frozen encoder's output: no gradient flows into it.
      return [tf.zeros([B, T, d]), tf.tensor1d(dg), tf.tensor1d(db)];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(h, gain, bias) as TF.Tensor2D;
}
