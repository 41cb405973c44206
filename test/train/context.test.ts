import assert from 'node:assert/strict';
import type * as TF from '@tensorflow/tfjs';
import { initTraining } from '../../lib/train/backend.js';
import { normContext } from '../../lib/train/context.js';
import { LN_EPS } from '../../lib/math/matrix.js';

describe('train: LayerNorm and context window with a hand-written gradient', () => {
  it('value and gain/bias gradients equal TensorFlow.js ops under autodiff (padding masked, context 3 and 5)', async () => {
    const { tf } = await initTraining();
    const B = 3, T = 11, d = 7;
    const h = tf.randomNormal([B, T, d], 0.5, 2, 'float32', 1) as TF.Tensor3D;
    const gain = tf.randomNormal([d], 1, 0.3, 'float32', 2) as TF.Tensor1D, bias = tf.randomNormal([d], 0, 0.3, 'float32', 3) as TF.Tensor1D;
    const lengths = [11, 6, 1];
    const valid = new Float32Array(B * T);
    lengths.forEach((n, b) => valid.fill(1, b * T, b * T + n));
    for (const context of [3, 5]) {
      const k = (context - 1) >> 1;
      // The same stage from tf ops: moments, the mask, zero padding, a slice per offset, concat.
      const reference = (g: TF.Tensor1D, bb: TF.Tensor1D): TF.Tensor2D => {
        const { mean, variance } = tf.moments(h, -1, true);
        const n = tf.mul(tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, LN_EPS))), g), bb), tf.tensor3d(valid, [B, T, 1]));
        const p = tf.pad(n, [[0, 0], [k, k], [0, 0]]);
        return tf.reshape(tf.concat(Array.from({ length: context }, (_, j) => tf.slice(p, [0, j, 0], [B, T, d])), 2), [B * T, context * d]);
      };
      const r = tf.randomNormal([B * T, context * d], 0, 1, 'float32', 4 + context);
      const ours = tf.grads((g, bb) => tf.sum(tf.mul(normContext(tf, h, g as TF.Tensor1D, bb as TF.Tensor1D, context, valid), r)));
      const theirs = tf.grads((g, bb) => tf.sum(tf.mul(reference(g as TF.Tensor1D, bb as TF.Tensor1D), r)));
      const diff = (x: TF.Tensor, y: TF.Tensor): number => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0];
      assert.ok(diff(normContext(tf, h, gain, bias, context, valid), reference(gain, bias)) < 1e-5, 'value');
      const [gg, gb] = ours([gain, bias]), [tg, tb] = theirs([gain, bias]);
      assert.ok(diff(gg, tg) < 1e-4, `d/dgain differs by ${diff(gg, tg)} (context ${context})`);
      assert.ok(diff(gb, tb) < 1e-4, `d/dbias differs by ${diff(gb, tb)} (context ${context})`);
      assert.ok(tf.max(tf.abs(tg)).dataSync()[0] > 0.1, 'a gradient that is not zero');
    }
  });
});
