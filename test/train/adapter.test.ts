import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { CtcHead } from '../../lib/decode/ctc-head.js';
import { adapterLogits, adapterLogProbs } from '../../lib/adapter/math.js';
import { matmulBias } from '../../lib/math/matrix.js';
import { AdapterModel, initAdapter } from '../../lib/train/adapter-model.js';
import { loadAdapter } from '../../lib/adapter/io.js';
import { initTraining } from '../../lib/train/backend.js';
import { ctcLoss } from '../../lib/train/ctc-loss.js';
import { trainAdapter, tuneDecoding } from '../../lib/train/trainer.js';
import { readDataset } from '../../lib/data/manifest.js';
import { evaluate } from '../../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { logSoftmaxRows } from '../../lib/math/matrix.js';
import { ROOT, wavFixture } from '../helpers/fixtures.js';
import { importTestModelWithHead, smallScottishData } from '../helpers/models.js';
import { rng } from '../helpers/signals.js';

/** A copy of a data folder whose i-th utterance has speaker speakerOf(i) (none when undefined). */
function relabelled(src: string, dst: string, speakerOf: (i: number) => string | undefined): string {
  fs.cpSync(src, dst, { recursive: true });
  const tsv = fs.readFileSync(path.join(src, 'transcripts.tsv'), 'utf8').trim().split('\n');
  fs.writeFileSync(path.join(dst, 'transcripts.tsv'), tsv.map((l, i) => [...l.split('\t').slice(0, 2), speakerOf(i) ?? []].flat().join('\t')).join('\n') + '\n');
  return dst;
}

const D = 8, V = 29;
const randn = (n: number, seed: number, scale = 1): Float32Array => { const r = rng(seed); return Float32Array.from({ length: n }, () => (r() - 0.5) * 2 * scale); };

describe('train: adapter head', function () {
  this.timeout(180000);

  it('at step 0 the adapted model equals the base model exactly', () => {
    const head = new CtcHead(randn(D * V, 1), randn(V, 2), D, V);
    const w = initAdapter('adapter', D, V, head.weight, head.bias, 16, 3, 7);
    const h = randn(50 * D, 3, 2);
    const a = adapterLogits(w, h, 50);
    logSoftmaxRows(a, 50, V);
    assert.deepEqual(Array.from(a), Array.from(head.logProbs(h, 50)));
  });

  it('an ensemble averages its members\' posteriors: log((p1 + p2) / 2) per frame; one member is its own log-softmax', () => {
    const T = 20;
    const h = randn(T * D, 11, 2);
    const w1 = { ...initAdapter('adapter', D, V, randn(D * V, 12), randn(V, 13), 4, 3, 1), upW: randn(4 * D, 14, 0.5) };
    const w2 = { ...initAdapter('adapter', D, V, randn(D * V, 15), randn(V, 16), 4, 3, 2), upW: randn(4 * D, 17, 0.5) };
    const lp = (w: typeof w1): Float32Array => { const a = adapterLogits(w, h, T); logSoftmaxRows(a, T, V); return a; };
    const [a, b] = [lp(w1), lp(w2)];
    assert.deepEqual(Array.from(adapterLogProbs([w1], h, T)), Array.from(a));
    const both = adapterLogProbs([w1, w2], h, T);
    for (let i = 0; i < both.length; i++) assert.ok(Math.abs(both[i] - Math.log((Math.exp(a[i]) + Math.exp(b[i])) / 2)) < 1e-5, `i ${i}`);
    for (let t = 0; t < T; t++) {
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(both[t * V + v]);
      assert.ok(Math.abs(sum - 1) < 1e-5, `frame ${t} sums to ${sum}`);
    }
    const same = adapterLogProbs([w1, w1, w1], h, T);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(same[i] - a[i]) < 1e-5, 'identical members change nothing');
    assert.notDeepEqual(Array.from(a), Array.from(b), 'the members differ');
  });

  it('matmulBias equals a plain double-precision product (K not a multiple of 4, runs of zero inputs)', () => {
    const [T, K, N] = [7, 13, 5];
    const x = randn(T * K, 21), W = randn(K * N, 22), b = randn(N, 23), out = new Float32Array(T * N);
    x.fill(0, 0, 9); // a skipped group of four, and part of the next
    matmulBias(x, T, K, W, b, N, out);
    for (let t = 0; t < T; t++) {
      for (let n = 0; n < N; n++) {
        let s = b[n];
        for (let k = 0; k < K; k++) s += x[t * K + k] * W[k * N + n];
        assert.ok(Math.abs(s - out[t * N + n]) < 1e-5, `(${t}, ${n}): ${out[t * N + n]} vs ${s}`);
      }
    }
  });

  it('the TensorFlow.js forward pass equals the typed-array one (random non-zero weights, context 5)', async () => {
    const { tf } = await initTraining();
    const w = initAdapter('adapter', D, V, randn(D * V, 4), randn(V, 5), 16, 5, 9);
    w.upW = randn(16 * D, 6, 0.3);
    w.lnGain = randn(D, 8, 1);
    const h = randn(2 * 30 * D, 10, 2);
    const m = new AdapterModel(tf, w);
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => m.logits(tf.tensor3d(h, [2, 30, D])).dataSync());
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    for (let b = 0; b < 2; b++) {
      const want = adapterLogits(w, h.subarray(b * 30 * D, (b + 1) * 30 * D), 30);
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[b * 30 * V + i] - want[i]) < 1e-4, `b${b} i${i}: ${got[b * 30 * V + i]} vs ${want[i]}`);
    }
    m.dispose();
  });

  it('overfits one example: the CTC loss falls below 10% of its start', async () => {
    const { tf } = await initTraining();
    const w = initAdapter('adapter', D, V, randn(D * V, 11, 0.5), new Float32Array(V), 64, 5, 12);
    const m = new AdapterModel(tf, w);
    const h = tf.tensor3d(randn(60 * D, 13, 1.5), [1, 60, D]);
    const labels = [Int32Array.from([22, 10, 7, 1, 5, 3, 22])]; // "the cat"
    const opt = tf.train.adam(0.01);
    const loss = (): TF.Scalar => tf.tidy(() => tf.sum(ctcLoss(tf, tf.logSoftmax(m.logits(h)) as TF.Tensor3D, labels, [60])) as TF.Scalar);
    const first = loss().dataSync()[0];
    let last = first;
    for (let i = 0; i < 150; i++) {
      const l = opt.minimize(loss, true)!;
      last = l.dataSync()[0];
      l.dispose();
    }
    assert.ok(last < 0.1 * first, `loss ${first} -> ${last}`);
    tf.dispose([h]);
    m.dispose();
    opt.dispose();
  });
});

describe('train: trainAdapter end to end (tiny model)', function () {
  this.timeout(300000);
  let dir: string, data: string, model: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-train-'));
    model = (await importTestModelWithHead(dir, 'tiny')).dir;
    data = smallScottishData(dir, 16);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes an adapter with its record; the guard refuses an adapter that does not clearly help', async () => {
    const out = path.join(dir, 'adapters', 'scots');
    const epochs: number[] = [];
    const r = await trainAdapter({ accent: 'scots', data, model, out, epochs: 3, threads: 1, onEpoch: (e) => epochs.push(e.epoch) });
    assert.deepEqual(epochs, [1, 2, 3]);
    const { meta, weights } = loadAdapter(out);
    assert.equal(meta.format, 'adapt-asr-adapter');
    assert.equal(meta.accent, 'scots');
    assert.equal(meta.base.name, 'tiny');
    assert.equal(meta.data.utterances, 16);
    assert.equal(meta.data.devSplit, 'per-speaker', 'five voices: some of each voice is held out');
    assert.ok(meta.data.devUtterances === 2, `dev utterances ${meta.data.devUtterances}`); // round(0.15 x 16)
    assert.equal(meta.dev.accepted, false, 'a random encoder cannot make a useful adapter');
    assert.equal(meta.dev.decoding, 'greedy', 'a model without an LM is judged by greedy decoding');
    assert.match(meta.dev.verdict, /NOT clearly better|not judged/);
    assert.equal(weights.length, 1);
    assert.equal(weights[0].dim, D);
    assert.equal(meta.version, 1, 'one adapter stays format version 1');
    assert.ok(fs.existsSync(path.join(out, 'report.json')));
    assert.equal(fs.readFileSync(path.join(out, 'report.png')).subarray(1, 4).toString(), 'PNG');
    assert.equal(r.history.length, 3);
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ['scots'], 'no partial or temporary folders left');
  });

  it('refuses to overwrite an adapter without --force; the same seed gives the same adapter', async () => {
    const out = path.join(dir, 'adapters', 'scots');
    await assert.rejects(trainAdapter({ accent: 'scots', data, model, out, epochs: 3, threads: 1 }), /already holds an adapter; use --force/);
    const before = fs.readFileSync(path.join(out, 'weights.bin'));
    await trainAdapter({ accent: 'scots', data, model, out, epochs: 3, threads: 1, force: true });
    assert.ok(before.equals(fs.readFileSync(path.join(out, 'weights.bin'))), 'same seed, same weights');
  });

  it('an interrupted run resumes from its checkpoint and finishes', async () => {
    const out = path.join(dir, 'adapters', 'resumed');
    const ac = new AbortController();
    await assert.rejects(trainAdapter({ accent: 'r', data, model, out, epochs: 4, threads: 1, signal: ac.signal, onEpoch: (e) => { if (e.epoch === 2) ac.abort(); } }));
    assert.ok(!fs.existsSync(out), 'no adapter after an interruption');
    assert.ok(fs.existsSync(path.join(dir, 'adapters', '.resumed.partial', 'state.json')));
    const seen: number[] = [];
    const r = await trainAdapter({ accent: 'r', data, model, out, epochs: 4, threads: 1, resume: true, onEpoch: (e) => seen.push(e.epoch) });
    assert.deepEqual(seen, [3, 4]);
    assert.equal(r.history.length, 4);
    assert.ok(fs.existsSync(path.join(out, 'adapter.json')));
    await assert.rejects(trainAdapter({ accent: 'r', data, model, out, epochs: 4, threads: 1, resume: true }), /already finished; there is nothing to resume/);
  });

  it('--ensemble 2: two members on two folds, every utterance judged once; format version 2; resumes between members; the recognizer averages them', async () => {
    const out = path.join(dir, 'adapters', 'ens');
    const seen: string[] = [];
    const ac = new AbortController();
    // Interrupted as the first member ends, then resumed: the second member starts afresh, and the adapter
    // equals an uninterrupted run's (within a member, a resumed run restarts Adam's moments).
    await assert.rejects(trainAdapter({ accent: 'e', data, model, out, epochs: 2, ensemble: 2, threads: 1, speeds: [1], signal: ac.signal, onEpoch: (e) => { seen.push(`${e.member}:${e.epoch}`); if (e.member === 0 && e.epoch === 2) ac.abort(); } }));
    assert.deepEqual(seen, ['0:1', '0:2']);
    assert.ok(fs.existsSync(path.join(dir, 'adapters', '.ens.partial', 'member-0.bin')));
    const r = await trainAdapter({ accent: 'e', data, model, out, epochs: 2, ensemble: 2, threads: 1, speeds: [1], resume: true, onEpoch: (e) => seen.push(`${e.member}:${e.epoch}`) });
    assert.deepEqual(seen, ['0:1', '0:2', '1:1', '1:2']);
    assert.equal(r.history.length, 4);
    const { meta, weights } = loadAdapter(out);
    assert.equal(meta.version, 2);
    assert.equal(meta.weights.members, 2);
    assert.equal(weights.length, 2);
    assert.notDeepEqual(Array.from(weights[0].downW!), Array.from(weights[1].downW!), 'members start from their own seeds');
    assert.equal(meta.hyperParameters.ensemble, 2);
    assert.equal(meta.data.devUtterances, 16, 'the folds cover all the data');
    assert.equal(meta.training.members!.length, 2);
    assert.deepEqual(meta.training.members!.map((m) => m.devUtterances), [8, 8]);
    assert.deepEqual(meta.training.members!.map((m) => m.seed), [1, 2]);
    assert.match(meta.dev.verdict, /each of the 2 folds by the member that did not train on it|not judged/);
    const fresh = path.join(dir, 'adapters', 'ens-fresh');
    await trainAdapter({ accent: 'e', data, model, out: fresh, epochs: 2, ensemble: 2, threads: 1, speeds: [1] });
    assert.ok(fs.readFileSync(path.join(out, 'weights.bin')).equals(fs.readFileSync(path.join(fresh, 'weights.bin'))), 'resumed = uninterrupted');
    // The recognizer decodes with the averaged members.
    const rec = await loadRecognizer({ model, adapter: out });
    try {
      const u = readDataset(data).utterances[0];
      const { loadAudio } = await import('../../lib/audio/index.js');
      const enc = await rec.encoder.encode(loadAudio(u.audio));
      const got = await rec.logProbs(loadAudio(u.audio));
      assert.deepEqual(Array.from(got.logp), Array.from(adapterLogProbs(weights, enc.frames, enc.numFrames)));
    } finally {
      await rec.release();
    }
    await assert.rejects(trainAdapter({ accent: 'e', data, model, out: path.join(dir, 'adapters', 'e9'), ensemble: 9 }), /ensemble must be an integer from 1 to 8/);
  });

  it('an adapter\'s own LM weight and word bonus: chosen on a grid, kept only if better; decoding uses them unless told otherwise', async () => {
    // A dev WER surface with its minimum at LM weight 0.7, bonus 2; a flat one keeps the model's settings.
    const tried: string[] = [];
    const r = tuneDecoding((o) => { tried.push(`${o.lmWeight}/${o.wordBonus}`); return 0.2 + (o.lmWeight - 0.7) ** 2 + 0.01 * (o.wordBonus - 2) ** 2; }, { lmWeight: 0.3, wordBonus: -1 });
    assert.deepEqual(r.best, { lmWeight: 0.7, wordBonus: 2 });
    assert.ok(Math.abs(r.bestWer - 0.2) < 1e-12);
    assert.ok(Math.abs(r.ownWer - (0.2 + 0.16 + 0.09)) < 1e-12);
    assert.equal(tried.length, 20, 'the model\'s own pair is tried once');
    assert.deepEqual(tuneDecoding(() => 0.3, { lmWeight: 0.3, wordBonus: -1 }).best, { lmWeight: 0.3, wordBonus: -1 });
    const out = path.join(dir, 'adapters', 'ens');
    const { meta, weights } = loadAdapter(out);
    const decoding = { lmWeight: 0.7, wordBonus: 2, devWer: 0.2, modelDevWer: 0.25 };
    const rec = await loadRecognizer({ model, adapter: { meta: { ...meta, decoding }, weights } });
    const plain = await loadRecognizer({ model, adapter: { meta, weights } });
    const told = await loadRecognizer({ model, adapter: { meta: { ...meta, decoding }, weights }, lmWeight: 0.1 });
    try {
      assert.deepEqual(rec.lmTuning, { lmWeight: 0.7, wordBonus: 2 });
      assert.deepEqual(plain.lmTuning, { lmWeight: undefined, wordBonus: undefined }, 'without its own: the model\'s (none in this model)');
      assert.equal(told.defaults.lmWeight, 0.1, 'an explicit option wins');
      assert.equal(told.defaults.wordBonus, undefined);
      assert.equal(told.lmTuning.wordBonus, 2);
    } finally {
      await Promise.all([rec.release(), plain.release(), told.release()]);
    }
    const bad = path.join(dir, 'adapters', 'ens-bad');
    fs.cpSync(out, bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'adapter.json'), JSON.stringify({ ...meta, decoding: { lmWeight: 'heavy', wordBonus: 1 } }));
    assert.throws(() => loadAdapter(bad), /adapter\.json "decoding" should hold lmWeight/);
  });

  it('bad data is skipped with reasons; nothing usable is a clear error and writes nothing', async () => {
    const bad = path.join(dir, 'bad');
    fs.mkdirSync(bad);
    fs.copyFileSync(wavFixture('truncated-data.wav'), path.join(bad, 'broken.wav'));
    fs.copyFileSync(wavFixture('tone-16k-pcm16.wav'), path.join(bad, 'short.wav'));
    fs.writeFileSync(path.join(bad, 'transcripts.tsv'), 'broken.wav\thello\nmissing.wav\thello\nshort.wav\tthis transcript is far too long for half a second of audio at fifty frames per second\nsilent.wav\t!!!\n');
    fs.copyFileSync(wavFixture('tone-16k-pcm16.wav'), path.join(bad, 'silent.wav'));
    const logs: string[] = [];
    await assert.rejects(trainAdapter({ accent: 'b', data: bad, model, out: path.join(dir, 'adapters', 'b'), threads: 1, onLog: (l) => logs.push(l) }), /no usable training data: 0 utterance\(s\) left after skipping 4/);
    assert.ok(logs.some((l) => /skipped 2 utterance\(s\): unreadable audio/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /skipped 1 utterance\(s\): empty transcript/.test(l)));
    assert.ok(logs.some((l) => /skipped 1 utterance\(s\): audio too short for its transcript/.test(l)));
    assert.ok(!fs.existsSync(path.join(dir, 'adapters', 'b')));
  });

  it('dev is decoded as transcribe decodes it (beam + the model\'s LM and lexicon), or greedily on request', async () => {
    const withLm = path.join(dir, 'with-lm');
    fs.cpSync(model, withLm, { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'models', 'base-en', 'lm.arpa.gz'), path.join(withLm, 'lm.arpa.gz'));
    const m = JSON.parse(fs.readFileSync(path.join(withLm, 'model.json'), 'utf8'));
    m.decoding = { beam: 4, lmWeight: 0.3, wordBonus: 0, lexicon: true };
    fs.writeFileSync(path.join(withLm, 'model.json'), JSON.stringify(m));
    // Sixteen speakers, so the dev set is whole speakers and the test can name its utterances.
    const manySpk = relabelled(data, path.join(dir, 'data-16-speakers'), (i) => `spk${i}`);
    const out = path.join(dir, 'adapters', 'lm');
    await trainAdapter({ accent: 'lm', data: manySpk, model: withLm, out, epochs: 1, threads: 1 });
    const { meta } = loadAdapter(out);
    assert.equal(meta.dev.decoding, 'beam 4 + LM + lexicon');
    // The guard's base dev WER is what the recognizer, decoding by default, gives on the dev speakers.
    assert.equal(meta.data.devSplit, 'speakers');
    const devUtts = readDataset(manySpk).utterances.filter((u) => meta.data.devSpeakers.includes(u.speaker ?? ''));
    assert.equal(devUtts.length, meta.data.devUtterances);
    const rec = await loadRecognizer({ model: withLm, threads: 1 });
    try {
      const r = await evaluate(rec, devUtts);
      assert.ok(Math.abs(r.wer - meta.dev.baseWer) < 1e-9, `recognizer ${r.wer} vs guard ${meta.dev.baseWer}`);
    } finally {
      await rec.release();
    }
    await trainAdapter({ accent: 'lm', data: manySpk, model: withLm, out: path.join(dir, 'adapters', 'lm-greedy'), epochs: 1, threads: 1, devDecoding: 'greedy' });
    assert.equal(loadAdapter(path.join(dir, 'adapters', 'lm-greedy')).meta.dev.decoding, 'greedy');
    // An accepted adapter with enough dev words gets its own LM weight and word bonus when they beat the model's
    // (an adapter that barely moves from the base, a guard that accepts no change and a 1-word threshold, so that
    // this tiny model reaches the choice).
    const logs: string[] = [];
    const tuned = path.join(dir, 'adapters', 'lm-tuned');
    await trainAdapter({ accent: 'lm', data: manySpk, model: withLm, out: tuned, epochs: 1, threads: 1, lr: 1e-12, headLr: 0, acceptMargin: 0, acceptP: 1, minDevWords: 1, tuneMinWords: 1, onLog: (l) => logs.push(l) });
    const t = loadAdapter(tuned).meta;
    assert.equal(t.dev.accepted, true);
    const line = logs.find((l) => l.startsWith('decoding with this adapter:'));
    assert.ok(line, logs.join('\n'));
    if (t.decoding) {
      assert.ok([0.3, 0.5, 0.7, 1].includes(t.decoding.lmWeight) && [-1, 0, 1, 2, 3].includes(t.decoding.wordBonus), JSON.stringify(t.decoding));
      assert.ok(t.decoding.devWer <= 0.98 * t.decoding.modelDevWer + 1e-12);
    } else {
      assert.match(line!, /the model's own/);
    }
  });

  it('--kld 1 trains on the KL term alone (its loss is the base posteriors\' entropy at the base model); --kld 2 is refused', async () => {
    // The term's value and gradient are tested in ctc-loss.test. Here: it is wired in. At the base model its
    // gradient is only round-off, yet Adam scales even that into steps of up to the learning rate, so the
    // adapter drifts a little instead of staying put: the train loss, not the weights, is what can be asserted.
    const out = path.join(dir, 'adapters', 'kld');
    const r = await trainAdapter({ accent: 'k', data, model, out, epochs: 2, threads: 1, kld: 1, speeds: [1], dropout: 0, timeMask: 0, featureMask: 0, devDecoding: 'greedy' });
    // The first epoch's loss is the cross-entropy of the base posteriors with themselves: their entropy, in (0, ln V];
    // with a CTC term it would be a CTC loss per label, several nats above that (see the kld 0 run below).
    assert.ok(r.history[0].trainLoss > 0.01 && r.history[0].trainLoss <= Math.log(V) + 1e-6, `train loss ${r.history[0].trainLoss}`);
    assert.equal(loadAdapter(out).meta.hyperParameters.kld, 1);
    const ctc = await trainAdapter({ accent: 'k', data, model, out: path.join(dir, 'adapters', 'kld0'), epochs: 1, threads: 1, speeds: [1], dropout: 0, timeMask: 0, featureMask: 0, devDecoding: 'greedy' });
    assert.ok(ctc.history[0].trainLoss > r.history[0].trainLoss + 0.5, `CTC ${ctc.history[0].trainLoss} vs KL ${r.history[0].trainLoss}`);
    await assert.rejects(trainAdapter({ accent: 'k', data, model, out: path.join(dir, 'adapters', 'kld2'), kld: 2 }), /kld must be a number from 0 to 1/);
  });

  it('--dev-data: that set judges the adapter and all of --data trains; it excludes --dev-split', async () => {
    const devDir = smallScottishData(dir, 5, { from: 20, name: 'dev-given' }); // not in `data` (the first 16)
    const out = path.join(dir, 'adapters', 'given');
    const logs: string[] = [];
    await trainAdapter({ accent: 'g', data, devData: devDir, model, out, epochs: 1, threads: 1, speeds: [1], onLog: (l) => logs.push(l) });
    const { meta } = loadAdapter(out);
    assert.equal(meta.data.devSplit, 'given');
    assert.equal(meta.data.devUtterances, 5);
    assert.equal(meta.data.utterances, 16);
    assert.equal(meta.data.devSource, path.resolve(devDir));
    assert.ok(logs.some((l) => l.includes(`dev: 5 utterances (from ${devDir})`)), logs.join('\n'));
    await assert.rejects(trainAdapter({ accent: 'g', data, devData: devDir, devSplit: 'speakers', model, out: path.join(dir, 'adapters', 'g2') }), /--dev-data gives the dev set; --dev-split chooses/);
    const empty = path.join(dir, 'dev-empty');
    fs.mkdirSync(empty, { recursive: true });
    fs.writeFileSync(path.join(empty, 'transcripts.tsv'), '');
    await assert.rejects(trainAdapter({ accent: 'g', data, devData: empty, model, out: path.join(dir, 'adapters', 'g3') }), (err: Error) => err.message.startsWith(`${empty}`));
    assert.ok(!fs.existsSync(path.join(dir, 'adapters', 'g3')));
  });

  it('--dev-split speakers on data without speaker labels is a clear error naming the data, and writes nothing', async () => {
    const noSpk = relabelled(data, path.join(dir, 'data-no-speakers'), () => undefined);
    const out = path.join(dir, 'adapters', 'nospk');
    await assert.rejects(trainAdapter({ accent: 'n', data: noSpk, model, out, epochs: 1, threads: 1, devSplit: 'speakers' }),
      (err: Error) => err.message.startsWith(`${noSpk}: --dev-split speakers needs a speaker for every utterance`));
    assert.ok(!fs.existsSync(out));
    await assert.rejects(trainAdapter({ accent: 'n', data, model, out, devSplit: 'voices' as 'speakers' }), /devSplit must be 'auto', 'speakers', 'per-speaker' or 'utterances'/);
  });

  it('an unknown accent without data names the bundled ones', async () => {
    await assert.rejects(trainAdapter({ accent: 'martian', model }), /no bundled data for accent 'martian' \(bundled: scottish\)/);
  });
});

describe('train: --as-base gives an imported encoder a CTC head', function () {
  this.timeout(120000);
  it('a Whisper-kind encoder without a head gets one; then it can transcribe and take adapters', async () => {
    const { importModel, loadManifest } = await import('../../lib/encoder/index.js');
    const { loadRecognizer } = await import('../../lib/pipeline/recognizer.js');
    const { encoderFixture } = await import('../helpers/models.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-asbase-'));
    try {
      const md = await importModel(encoderFixture('whisper/encoder_model.onnx'), { kind: 'whisper', name: 'wt', modelsDir: dir });
      await assert.rejects(loadRecognizer({ model: md.dir, threads: 1 }), /has no CTC head; train one with/);
      await assert.rejects(trainAdapter({ accent: 'x', model: md.dir, data: path.join(ROOT, 'audio-fixtures'), threads: 1 }), /has no base CTC head to adapt; train one first/);
      await assert.rejects(trainAdapter({ accent: 'x', model: md.dir, data: path.join(ROOT, 'audio-fixtures'), threads: 1, asBase: true }), /use it with --method head/);
      await trainAdapter({ accent: 'en', model: md.dir, data: path.join(ROOT, 'audio-fixtures'), method: 'head', asBase: true, epochs: 3, threads: 1, out: path.join(dir, 'head-run') });
      const after = loadManifest(md.dir).manifest;
      assert.equal(after.ctcHead?.vocab.length, 29);
      const rec = await loadRecognizer({ model: md.dir, threads: 1 });
      assert.equal(typeof (await rec.transcribe(path.join(ROOT, 'audio-fixtures', 'speech-en-us-16k.wav'))).text, 'string');
      await rec.release();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
