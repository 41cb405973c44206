/**
 * The adapter head in TensorFlow.js, for training (see lib/adapter/math.ts for the definition).
 * Variables are created from AdapterWeights and read back into them; only dense ops, slicing and
 * concatenation are used, so every gradient exists on the wasm backend.
 */
import type * as TF from '@tensorflow/tfjs';
import { matMul } from './matmul.js';
import { depthwiseConv1d } from './depthwise.js';
import { TOP_TENSORS, topTensorShape, type AdapterMethod, type AdapterWeights, type TopBlock } from '../adapter/math.js';
import { LN_EPS } from '../math/matrix.js';

export interface AdapterVariables {
  adapter: TF.Variable[];
  head: TF.Variable[];
}

export class AdapterModel {
  readonly tf: typeof TF;
  readonly w: AdapterWeights;
  readonly vars: Record<string, TF.Variable>;

  constructor(tf: typeof TF, w: AdapterWeights) {
    this.tf = tf;
    this.w = w;
    const { dim: d, vocabSize: V, bottleneck: r, context: ctx } = w;
    const v = (name: string, data: Float32Array, shape: number[]): TF.Variable => tf.variable(tf.tensor(data, shape), true, `${name}_${Math.random().toString(36).slice(2)}`);
    this.vars = { headW: v('headW', w.headW, [d, V]), headB: v('headB', w.headB, [V]) };
    if (w.method === 'adapter') {
      Object.assign(this.vars, {
        lnGain: v('lnGain', w.lnGain!, [d]), lnBias: v('lnBias', w.lnBias!, [d]),
        downW: v('downW', w.downW!, [ctx * d, r]), downB: v('downB', w.downB!, [r]),
        upW: v('upW', w.upW!, [r, d]), upB: v('upB', w.upB!, [d]),
      });
    }
    if (w.method === 'top') {
      w.top!.forEach((b, i) => {
        for (const k of TOP_TENSORS) this.vars[`top.${i}.${k}`] = v(`top${i}${k}`, b[k], topTensorShape(k, d, w.kernel!));
      });
    }
  }

  /** Variables in two groups: the adapter's and the CTC head's (trained at a lower rate or frozen). */
  groups(): AdapterVariables {
    const { headW, headB, ...rest } = this.vars;
    return { adapter: Object.values(rest), head: [headW, headB] };
  }

  /**
   * Logits (B, T, V) for encoder frames (B, T, d); dropout on the bottleneck when training (seeded).
   * `valid` (B, T, 1): 1 on real frames, 0 on padding. With it, padded frames enter the context
   * window and the top blocks as zeros, as the edges of one utterance do at inference
   * (lib/adapter/math.ts), so an utterance's outputs do not depend on how long its batch is padded.
   */
  logits(h: TF.Tensor3D, dropout = 0, seed?: number, valid?: TF.Tensor3D): TF.Tensor3D {
    const tf = this.tf, w = this.w, V = this.vars;
    const [B, T, d] = h.shape;
    let y: TF.Tensor3D = h;
    if (w.method === 'adapter') {
      const { mean, variance } = tf.moments(h, -1, true);
      let n = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, LN_EPS))), V.lnGain), V.lnBias) as TF.Tensor3D;
      if (valid) n = tf.mul(n, valid);
      const k = (w.context - 1) >> 1;
      let c: TF.Tensor3D = n;
      if (k > 0) {
        const p = tf.pad(n, [[0, 0], [k, k], [0, 0]]);
        c = tf.concat(Array.from({ length: w.context }, (_, j) => tf.slice(p, [0, j, 0], [B, T, d])), 2) as TF.Tensor3D;
      }
      let z = tf.relu(tf.add(matMul(tf, tf.reshape(c, [B * T, w.context * d]), V.downW as TF.Tensor2D), V.downB));
      if (dropout > 0) z = tf.dropout(z, dropout, undefined, seed);
      y = tf.add(h, tf.reshape(tf.add(matMul(tf, z as TF.Tensor2D, V.upW as TF.Tensor2D), V.upB), [B, T, d])) as TF.Tensor3D;
    }
    if (w.method === 'top') {
      for (let i = 0; i < w.top!.length; i++) {
        const g = (k: string): TF.Variable => V[`top.${i}.${k}`];
        const u = depthwiseConv1d(tf, y, g('dwW') as TF.Tensor2D, g('dwB') as TF.Tensor1D);
        const z = tf.reshape(tf.add(matMul(tf, tf.reshape(u, [B * T, d]), g('pwW') as TF.Tensor2D), g('pwB')), [B, T, d]);
        const { mean, variance } = tf.moments(z, -1, true);
        const n = tf.add(tf.mul(tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, LN_EPS))), g('lnG')), g('lnB'));
        let s = tf.mul(n, tf.sigmoid(n));
        if (dropout > 0) s = tf.dropout(s, dropout, undefined, seed === undefined ? undefined : seed + i + 1);
        y = tf.add(y, s) as TF.Tensor3D;
        if (valid) y = tf.mul(y, valid);
      }
    }
    return tf.reshape(tf.add(matMul(tf, tf.reshape(y, [B * T, d]), V.headW as TF.Tensor2D), V.headB), [B, T, w.vocabSize]) as TF.Tensor3D;
  }

  /** Current values as AdapterWeights (copies). */
  read(): AdapterWeights {
    const get = (k: string): Float32Array => Float32Array.from(this.vars[k].dataSync() as Float32Array);
    const out: AdapterWeights = { ...this.w, headW: get('headW'), headB: get('headB') };
    if (this.w.method === 'adapter') Object.assign(out, { lnGain: get('lnGain'), lnBias: get('lnBias'), downW: get('downW'), downB: get('downB'), upW: get('upW'), upB: get('upB') });
    if (this.w.method === 'top') out.top = this.w.top!.map((_, i) => Object.fromEntries(TOP_TENSORS.map((k) => [k, get(`top.${i}.${k}`)])) as unknown as TopBlock);
    return out;
  }

  /** Current values of the named variables (copies), for another replica of this model. */
  values(keys: string[]): Record<string, Float32Array> {
    return Object.fromEntries(keys.map((k) => [k, Float32Array.from(this.vars[k].dataSync() as Float32Array)]));
  }

  /** Set variables from values(). */
  load(values: Record<string, Float32Array>): void {
    const tf = this.tf;
    for (const [k, data] of Object.entries(values)) {
      const v = this.vars[k];
      tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
    }
  }

  dispose(): void {
    this.tf.dispose(Object.values(this.vars));
  }
}

/**
 * Fresh adapter weights on top of a base CTC head: LayerNorm at identity, W_down small random
 * (seeded), W_up and b_up zero, so the adapted model equals the base model exactly at step 0.
 * Method 'top': copies of the model's own top blocks, so again the base model at step 0.
 */
export function initAdapter(method: AdapterMethod, dim: number, vocabSize: number, headW: Float32Array, headB: Float32Array, bottleneck: number, context: number, seed: number,
  top?: { kernel: number; blocks: TopBlock[] }): AdapterWeights {
  let s = seed >>> 0 || 1;
  const rnd = (): number => { // Box-Muller on a xorshift stream
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const u = (s + 1) / 4294967297;
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const v = (s + 1) / 4294967297;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const w: AdapterWeights = { method, dim, vocabSize, bottleneck, context, headW: Float32Array.from(headW), headB: Float32Array.from(headB) };
  if (method === 'adapter') {
    const fanIn = context * dim;
    w.lnGain = new Float32Array(dim).fill(1);
    w.lnBias = new Float32Array(dim);
    w.downW = Float32Array.from({ length: fanIn * bottleneck }, () => rnd() * Math.sqrt(2 / fanIn));
    w.downB = new Float32Array(bottleneck);
    w.upW = new Float32Array(bottleneck * dim);
    w.upB = new Float32Array(dim);
  }
  if (method === 'top') {
    if (!top) throw new Error("method 'top' needs the model's top blocks");
    w.kernel = top.kernel;
    w.top = top.blocks.map((b) => Object.fromEntries(TOP_TENSORS.map((k) => [k, Float32Array.from(b[k])])) as unknown as TopBlock);
  }
  return w;
}
