import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { initTraining } from '../../lib/train/backend.js';
import { ctcLoss, ctcSequence } from '../../lib/train/ctc-loss.js';
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
});
