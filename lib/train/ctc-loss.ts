/**
 * CTC loss for TensorFlow.js, which has none: the log-space forward-backward algorithm
 * (Graves et al. 2006) over Float64Arrays, wrapped in tf.customGrad.
 *
 * For one sequence with label l (length L), extended label l' = (blank, l1, blank, ..., lL, blank)
 * of S = 2L + 1 states and log-probabilities y (T, V):
 *   alpha_t(s) = log sum of paths through state s at t, including y_t(l'_s);
 *   beta_t(s)  = log sum of path suffixes after t from state s (excluding y_t);
 *   ln p = logsumexp(alpha_{T-1}(S-1), alpha_{T-1}(S-2)); nll = -ln p.
 * Gradient of nll with respect to y_t(k):
 *   -exp(logsumexp_{s: l'_s = k} (alpha_t(s) + beta_t(s)) - ln p).
 * (torch.nn.functional.ctc_loss returns exp(y) minus that term instead, which assumes y came from
 * log_softmax; through tf.logSoftmax both give the same gradient with respect to the logits.)
 * An impossible alignment (T too short for the label) has infinite loss; like torch's
 * zero_infinity=True, it is given loss 0 and gradient 0.
 */
import type * as TF from '@tensorflow/tfjs';

const NEG = -Infinity;
function lse(a: number, b: number): number {
  if (a === NEG) return b;
  if (b === NEG) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/**
 * Negative log-likelihood of one sequence and, if `grad` is given, its gradient written into
 * grad[gOff + t*V + k] (with respect to y, for t < T).
 * @param y (Tmax, V) log-probabilities starting at yOff
 */
export function ctcSequence(y: Float32Array | Float64Array, yOff: number, T: number, V: number, label: ArrayLike<number>, blank: number,
  grad?: Float32Array, gOff = 0): number {
  const L = label.length, S = 2 * L + 1;
  const sym = new Int32Array(S);
  for (let s = 0; s < S; s++) sym[s] = s % 2 === 0 ? blank : label[(s - 1) >> 1];
  // Minimum frames: one per label plus one between identical neighbours.
  let need = L;
  for (let i = 1; i < L; i++) if (label[i] === label[i - 1]) need++;
  if (T < need || T === 0) return Infinity;
  const alpha = new Float64Array(T * S).fill(NEG);
  alpha[0] = y[yOff + sym[0]];
  if (S > 1) alpha[1] = y[yOff + sym[1]];
  for (let t = 1; t < T; t++) {
    const a = t * S, p = (t - 1) * S, o = yOff + t * V;
    for (let s = 0; s < S; s++) {
      let v = alpha[p + s];
      if (s >= 1) v = lse(v, alpha[p + s - 1]);
      if (s >= 2 && sym[s] !== blank && sym[s] !== sym[s - 2]) v = lse(v, alpha[p + s - 2]);
      alpha[a + s] = v === NEG ? NEG : v + y[o + sym[s]];
    }
  }
  const last = (T - 1) * S;
  const logp = S > 1 ? lse(alpha[last + S - 1], alpha[last + S - 2]) : alpha[last];
  if (logp === NEG) return Infinity;
  if (grad) {
    const beta = new Float64Array(S).fill(NEG), next = new Float64Array(S);
    beta[S - 1] = 0;
    if (S > 1) beta[S - 2] = 0;
    const gamma = new Float64Array(V);
    for (let t = T - 1; t >= 0; t--) {
      gamma.fill(NEG);
      const a = t * S;
      for (let s = 0; s < S; s++) gamma[sym[s]] = lse(gamma[sym[s]], alpha[a + s] + beta[s]);
      const g = gOff + t * V;
      for (let k = 0; k < V; k++) grad[g + k] = gamma[k] === NEG ? 0 : -Math.exp(gamma[k] - logp);
      if (t === 0) break;
      // beta_{t-1}(s) = logsumexp over successors s' of (beta_t(s') + y_t(l'_s')).
      const o = yOff + t * V;
      for (let s = 0; s < S; s++) {
        let v = beta[s] + y[o + sym[s]];
        if (s + 1 < S) v = lse(v, beta[s + 1] + y[o + sym[s + 1]]);
        if (s + 2 < S && sym[s + 2] !== blank && sym[s + 2] !== sym[s]) v = lse(v, beta[s + 2] + y[o + sym[s + 2]]);
        next[s] = v;
      }
      beta.set(next);
    }
  }
  return -logp;
}

/**
 * CTC loss of a batch as a tfjs op with gradient.
 * @param logProbs (B, T, V) log-probabilities (e.g. tf.logSoftmax of the logits)
 * @param labels label ids per sequence (no blanks)
 * @param inputLengths valid frames per sequence (<= T)
 * @returns (B,) negative log-likelihoods (0 where the alignment is impossible)
 */
export function ctcLoss(tf: typeof TF, logProbs: TF.Tensor3D, labels: ArrayLike<number>[], inputLengths: number[], blank = 0): TF.Tensor1D {
  const [B, T, V] = logProbs.shape;
  if (labels.length !== B || inputLengths.length !== B) throw new Error(`ctcLoss: batch of ${B}, but ${labels.length} labels and ${inputLengths.length} lengths`);
  // customGrad's signature is variadic (inputs..., save); one input here.
  const op = tf.customGrad(((x: TF.Tensor, save: TF.GradSaveFunc) => {
    const y = x.dataSync() as Float32Array;
    const grad = new Float32Array(B * T * V);
    const nll = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      const Tb = Math.min(T, inputLengths[b]);
      const v = ctcSequence(y, b * T * V, Tb, V, labels[b], blank, grad, b * T * V);
      if (Number.isFinite(v)) nll[b] = v;
      else grad.fill(0, b * T * V, (b + 1) * T * V);
    }
    const g = tf.tensor3d(grad, [B, T, V]);
    save([g]);
    return {
      value: tf.tensor1d(nll),
      gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => tf.mul(saved[0], tf.reshape(dy, [B, 1, 1])),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logProbs) as TF.Tensor1D;
}

/**
 * The KL term of `train --kld`: cross-entropy of the base model's posteriors with the adapted
 * log-probabilities, averaged over valid frames. KL(base || adapted) less the base's entropy, a
 * constant, so the gradient with respect to the adapted logits is (adapted - base posteriors) per
 * valid frame / frames: zero at the base model.
 * @param logProbs (B, T, V) adapted log-probabilities
 * @param post (B*T*V) base posteriors; @param valid (B*T) 1 for real frames, 0 for padding
 * @param frames the denominator (default: the valid frames here; a shard of a batch passes the batch's)
 */
export function baseCrossEntropy(tf: typeof TF, logProbs: TF.Tensor3D, post: Float32Array, valid: Float32Array, frames?: number): TF.Scalar {
  const [B, T] = logProbs.shape;
  const ce = tf.neg(tf.sum(tf.mul(tf.tensor3d(post, logProbs.shape), logProbs), -1));
  const m = tf.tensor2d(valid, [B, T]);
  return tf.div(tf.sum(tf.mul(ce, m)), frames ?? tf.sum(m)) as TF.Scalar; // intermediates: call inside tf.tidy
}
