/**
 * Depthwise 1-D convolution for TensorFlow.js training, with its gradient written out by hand:
 * the wasm backend registers no depthwise-conv gradient kernels, and a sum of shifted slices is
 * several times slower. Cross-correlation with zero padding (PyTorch Conv1d, groups = channels):
 *   y[b, t, c] = bias[c] + sum_j w[j, c] x[b, t + j - half, c]
 *   dx[b, s, c] = sum_j w[j, c] dy[b, s - j + half, c];  dw[j, c] = sum_{b,t} dy[b, t, c] x[b, t + j - half, c]
 */
import type * as TF from '@tensorflow/tfjs';

/** y = depthwise_conv(x (B, T, d), w (k, d)) + bias (d,), "same" length (k odd). */
export function depthwiseConv1d(tf: typeof TF, x: TF.Tensor3D, w: TF.Tensor2D, bias: TF.Tensor1D): TF.Tensor3D {
  // customGrad's signature is variadic (inputs..., save); three inputs here, nothing saved.
  const op = tf.customGrad(((xt: TF.Tensor3D, wt: TF.Tensor2D, bt: TF.Tensor1D) => {
    const [B, T, d] = xt.shape;
    const k = wt.shape[0], half = (k - 1) >> 1;
    const xv = xt.dataSync() as Float32Array, wv = wt.dataSync() as Float32Array, bv = bt.dataSync() as Float32Array;
    const y = new Float32Array(B * T * d);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const o = (b * T + t) * d;
        y.set(bv, o);
        for (let j = 0; j < k; j++) {
          const s = t + j - half;
          if (s < 0 || s >= T) continue;
          const xs = (b * T + s) * d, wj = j * d;
          for (let c = 0; c < d; c++) y[o + c] += wv[wj + c] * xv[xs + c];
        }
      }
    }
    const value = tf.tensor3d(y, [B, T, d]);
    const gradFunc = (dy: TF.Tensor): TF.Tensor[] => {
      const g = dy.dataSync() as Float32Array;
      const dx = new Float32Array(B * T * d), dw = new Float32Array(k * d), db = new Float32Array(d);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const o = (b * T + t) * d;
          for (let c = 0; c < d; c++) db[c] += g[o + c];
          for (let j = 0; j < k; j++) {
            const s = t + j - half;
            if (s < 0 || s >= T) continue;
            const xs = (b * T + s) * d, wj = j * d;
            for (let c = 0; c < d; c++) {
              dw[wj + c] += g[o + c] * xv[xs + c];
              dx[xs + c] += g[o + c] * wv[wj + c];
            }
          }
        }
      }
      return [tf.tensor3d(dx, [B, T, d]), tf.tensor2d(dw, [k, d]), tf.tensor1d(db)];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, w, bias) as TF.Tensor3D;
}
