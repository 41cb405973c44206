import assert from 'node:assert/strict';
import type * as TF from '@tensorflow/tfjs';
import { initTraining } from '../../lib/train/backend.js';
import { matMul } from '../../lib/train/matmul.js';

describe('train: matrix product with a transpose-free gradient', () => {
  it('value and gradients equal TensorFlow.js matMul under autodiff', async () => {
    const { tf } = await initTraining();
    const a = tf.randomNormal([37, 19], 0, 1, 'float32', 1) as TF.Tensor2D;
    const b = tf.randomNormal([19, 11], 0, 1, 'float32', 2) as TF.Tensor2D;
    const r = tf.randomNormal([37, 11], 0, 1, 'float32', 3);
    const ours = tf.grads((x, y) => tf.sum(tf.mul(matMul(tf, x as never, y as never), r)));
    const theirs = tf.grads((x, y) => tf.sum(tf.mul(tf.matMul(x, y), r)));
    const [ga, gb] = ours([a, b]);
    const [ta, tb] = theirs([a, b]);
    const diff = (x: TF.Tensor, y: TF.Tensor): number => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0];
    assert.ok(diff(matMul(tf, a, b), tf.matMul(a, b)) < 1e-5);
    assert.deepEqual(ga.shape, [37, 19]);
    assert.deepEqual(gb.shape, [19, 11]);
    assert.ok(diff(ga, ta) < 1e-4, `d/da differs by ${diff(ga, ta)}`);
    assert.ok(diff(gb, tb) < 1e-4, `d/db differs by ${diff(gb, tb)}`);
    assert.ok(tf.max(tf.abs(ta)).dataSync()[0] > 0.1, 'a gradient that is not zero');
  });
});
