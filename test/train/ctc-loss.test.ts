import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { initTraining } from '../../lib/train/backend.js';
import { baseCrossEntropy, ctcLoss, ctcSequence } from '../../lib/train/ctc-loss.js';
import { ROOT } from '../helpers/fixtures.js';

interface Golden { B: number; T: number; V: number; logits: number[]; labels: number[][]; inputLengths: number[]; nll: number[]; gradLogits: number[]; nllInfinite: boolean[] }

describe('train/ctc-loss', () => {
  const g = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'ctc', 'golden.json'), 'utf8')) as Golden;

  it('loss and gradient with respect to the logits equal torch.nn.functional.ctc_loss (zero_infinity)', async () => {
    const { tf } = await initTraining();
    const before = tf.memory().numTensors;
    const logits = tf.tensor3d(g.logits, [g.B, g.T, g.V]);
    const f = (x: import('@tensorflow/tfjs').Tensor) => ctcLoss(tf, tf.logSoftmax(x) as import('@tensorflow/tfjs').Tensor3D, g.labels, g.inputLengths).sum();
    const { value, grad } = tf.valueAndGrad(f)(logits);
    const nll = tf.tidy(() => ctcLoss(tf, tf.logSoftmax(logits) as import('@tensorflow/tfjs').Tensor3D, g.labels, g.inputLengths).arraySync());
    for (let b = 0; b < g.B; b++) assert.ok(Math.abs(nll[b] - g.nll[b]) < 1e-4 * Math.max(1, g.nll[b]), `nll[${b}] ${nll[b]} vs ${g.nll[b]}`);
    assert.ok(Math.abs((value.arraySync() as number) - g.nll.reduce((a, b) => a + b, 0)) < 1e-3);
    const gr = grad.dataSync();
    let worst = 0;
    for (let i = 0; i < gr.length; i++) worst = Math.max(worst, Math.abs(gr[i] - g.gradLogits[i]));
    assert.ok(worst < 1e-5, `max gradient difference ${worst}`);
    assert.deepEqual(g.nllInfinite, [false, false, false, true, false], 'case 3 is the impossible alignment');
    tf.dispose([logits, value, grad]);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  it('a two-frame hand-computed case: p("a") = y0(a) y1(a) + y0(a) y1(_) + y0(_) y1(a)', () => {
    const y = Float64Array.from([Math.log(0.6), Math.log(0.4), Math.log(0.7), Math.log(0.3)]); // V = 2: blank, a
    const p = 0.4 * 0.3 + 0.4 * 0.7 + 0.6 * 0.3;
    assert.ok(Math.abs(ctcSequence(y, 0, 2, 2, [1], 0) - -Math.log(p)) < 1e-12);
    assert.equal(ctcSequence(y, 0, 2, 2, [1, 1], 0), Infinity, '"aa" needs three frames');
  });
  it('the --kld term: cross-entropy with the base posteriors over valid frames; its gradient is (adapted - base) / frames, zero at the base', async () => {
    const { tf } = await initTraining();
    const B = 2, T = 4, V = 5;
    const z = Float32Array.from({ length: B * T * V }, (_, i) => Math.sin(1.7 * i) * 2);
    const valid = Float32Array.from([1, 1, 1, 1, 1, 1, 0, 0]); // the second sequence has 2 frames of padding
    const softmax = (x: Float32Array) => {
      const p = new Float32Array(x.length);
      for (let f = 0; f < B * T; f++) {
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(x[f * V + v]);
        for (let v = 0; v < V; v++) p[f * V + v] = Math.exp(x[f * V + v]) / s;
      }
      return p;
    };
    const base = softmax(z);
    const lossAt = (x: Float32Array) => tf.tidy(() => {
      const logits = tf.tensor3d(x, [B, T, V]);
      const f = (l: import('@tensorflow/tfjs').Tensor) => baseCrossEntropy(tf, tf.logSoftmax(l) as import('@tensorflow/tfjs').Tensor3D, base, valid);
      const { value, grad } = tf.valueAndGrad(f)(logits);
      return { value: value.dataSync()[0], grad: grad.dataSync() };
    });
    const at = lossAt(z);
    let entropy = 0;
    for (let f = 0; f < B * T; f++) for (let v = 0; v < V; v++) entropy -= valid[f] * base[f * V + v] * Math.log(base[f * V + v]);
    assert.ok(Math.abs(at.value - entropy / 6) < 1e-5, `at the base the loss is the base entropy per frame: ${at.value} vs ${entropy / 6}`);
    assert.ok(at.grad.every((g) => Math.abs(g) < 1e-6), 'zero gradient at the base model');
    const moved = z.map((x, i) => x + Math.cos(0.3 * i));
    const q = softmax(moved), m = lossAt(moved);
    for (let f = 0; f < B * T; f++) for (let v = 0; v < V; v++) {
      const want = valid[f] * (q[f * V + v] - base[f * V + v]) / 6;
      assert.ok(Math.abs(m.grad[f * V + v] - want) < 1e-5, `gradient at frame ${f}, symbol ${v}: ${m.grad[f * V + v]} vs ${want}`);
    }
    assert.ok(m.value > at.value + 1e-3, 'moving away from the base raises the loss');
  });
});
