/**
 * Row-wise matrix kernels on flat row-major Float32Arrays, shared by the CTC head, the adapter's
 * forward pass and the exported graph's checks. No allocation: callers own every buffer.
 */

/** LayerNorm epsilon, as PyTorch's default (and the trainer's TensorFlow.js model). */
export const LN_EPS = 1e-5;

/**
 * out (T, N) = x (T, K) W (K, N) + b, all row-major. Four rows of W per pass over a row of out
 * (a quarter of the loads and stores of out); groups of four zero inputs (ReLU outputs) are skipped.
 */
export function matmulBias(x: Float32Array, T: number, K: number, W: Float32Array, b: Float32Array, N: number, out: Float32Array): void {
  const K4 = K - (K % 4);
  for (let t = 0; t < T; t++) {
    const o = t * N, xi = t * K;
    for (let n = 0; n < N; n++) out[o + n] = b[n];
    let k = 0;
    for (; k < K4; k += 4) {
      const v0 = x[xi + k], v1 = x[xi + k + 1], v2 = x[xi + k + 2], v3 = x[xi + k + 3];
      if (v0 === 0 && v1 === 0 && v2 === 0 && v3 === 0) continue;
      const w0 = k * N, w1 = w0 + N, w2 = w1 + N, w3 = w2 + N;
      for (let n = 0; n < N; n++) out[o + n] += v0 * W[w0 + n] + v1 * W[w1 + n] + v2 * W[w2 + n] + v3 * W[w3 + n];
    }
    for (; k < K; k++) {
      const v = x[xi + k];
      if (v === 0) continue;
      const w = k * N;
      for (let n = 0; n < N; n++) out[o + n] += v * W[w + n];
    }
  }
}

/** LayerNorm of each row of x (T, d) into out (T, d), which may be x; gain and bias (d,). */
export function layerNormRows(x: Float32Array, T: number, d: number, gain: Float32Array, bias: Float32Array, out: Float32Array): void {
  for (let t = 0; t < T; t++) {
    const o = t * d;
    let mean = 0, sq = 0;
    for (let i = 0; i < d; i++) mean += x[o + i];
    mean /= d;
    for (let i = 0; i < d; i++) sq += (x[o + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(sq / d + LN_EPS);
    for (let i = 0; i < d; i++) out[o + i] = (x[o + i] - mean) * inv * gain[i] + bias[i];
  }
}

/** In-place log-softmax over each row of x (T, V). */
export function logSoftmaxRows(x: Float32Array, T: number, V: number): void {
  for (let t = 0; t < T; t++) {
    const o = t * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (x[o + v] > max) max = x[o + v];
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(x[o + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) x[o + v] -= lse;
  }
}
