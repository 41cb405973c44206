/**
 * One shard of a training batch and its gradients: the part of a gradient step that can run on
 * any core. A batch is cut into shards (one per core, see grad-pool.ts); each shard's loss is
 * weighted by its share of the batch, so the shards' gradients simply add up to the gradient of
 * the whole batch (CTC: mean over utterances of nll / label length; KL term: mean over frames).
 */
import type * as TF from '@tensorflow/tfjs';
import type { AdapterModel } from './adapter-model.js';
import { baseCrossEntropy, ctcLoss } from './ctc-loss.js';

/** What a shard's gradient needs: masked encoder frames, labels, and its weights in the batch. */
export interface Shard {
  /** (B, T, d) encoder frames, zero-padded and masked. */
  x: Float32Array;
  B: number;
  T: number;
  labels: Int32Array[];
  lengths: number[];
  /** Utterances and real frames in the whole batch (the shard's loss is divided by these). */
  batchUtterances: number;
  batchFrames: number;
  dropSeed: number;
  /** With --kld: the base posteriors (B, T, V) and a mask of real frames (B, T). */
  post?: Float32Array;
  valid?: Float32Array;
}

/** The fixed settings of every step of a run. */
export interface StepConfig { dropout: number; kld: number; blank: number; d: number; V: number; trainHead: boolean }

/** The variables a step trains (the head too unless its learning rate is 0), keyed by AdapterModel.vars' keys, in a fixed order. */
export function trainedKeys(model: AdapterModel, trainHead: boolean): string[] {
  const g = model.groups();
  const trained = new Set(trainHead ? [...g.adapter, ...g.head] : g.adapter);
  return Object.keys(model.vars).filter((k) => trained.has(model.vars[k])).sort();
}

/**
 * Loss and gradients of one shard. The loss is the shard's weighted share of the batch loss; the
 * returned gradient tensors (keyed as trainedKeys) are the caller's to dispose.
 */
export function shardGradients(tf: typeof TF, model: AdapterModel, s: Shard, c: StepConfig): { loss: number; grads: Record<string, TF.Tensor> } {
  const keys = trainedKeys(model, c.trainHead);
  const vars = keys.map((k) => model.vars[k]);
  const labelLen = tf.tensor1d(s.labels.map((l) => l.length));
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
    const h = tf.tensor3d(s.x, [s.B, s.T, c.d]);
    const mask = new Float32Array(s.B * s.T);
    s.lengths.forEach((len, b) => mask.fill(1, b * s.T, b * s.T + len));
    const logits = model.logits(h, c.dropout, s.dropSeed, tf.tensor3d(mask, [s.B, s.T, 1]));
    const logp = tf.logSoftmax(logits) as TF.Tensor3D;
    const nll = ctcLoss(tf, logp, s.labels, s.lengths, c.blank);
    const ctc = tf.div(tf.sum(tf.div(nll, labelLen)), s.batchUtterances) as TF.Scalar;
    if (!s.post || !s.valid) return ctc;
    const kl = baseCrossEntropy(tf, logp, s.post, s.valid, s.batchFrames);
    return tf.add(tf.mul(ctc, 1 - c.kld), tf.mul(kl, c.kld)) as TF.Scalar;
  }), vars);
  const loss = value.dataSync()[0];
  tf.dispose([value, labelLen]);
  const out: Record<string, TF.Tensor> = {};
  keys.forEach((k, i) => { out[k] = grads[vars[i].name]; });
  return { loss, grads: out };
}
