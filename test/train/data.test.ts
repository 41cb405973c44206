import assert from 'node:assert/strict';
import path from 'node:path';
import { loadAudio } from '../../lib/audio/index.js';
import { Encoder } from '../../lib/encoder/encoder.js';
import { localFileEncoder } from '../../lib/encoder/pool.js';
import { loadManifest } from '../../lib/encoder/manifest.js';
import { foldSplit, framesNeeded, speedPerturb, splitDev, takeMinutes, type Example } from '../../lib/train/data.js';

const ex = (i: number, speaker?: string): Example => ({ id: `u${i}`, audio: '', speaker, text: 'x', labels: new Int32Array([3]), seconds: 3, frames: new Float32Array(8), T: 1 });

describe('train: data helpers', () => {
  it('--minutes takes a deterministic subset of about that many minutes', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ id: i, duration: 3 }));
    const a = takeMinutes(items, 1, 7), b = takeMinutes(items, 1, 7), c = takeMinutes(items, 1, 8);
    assert.deepEqual(a.map((x) => x.id), b.map((x) => x.id));
    assert.notDeepEqual(a.map((x) => x.id), c.map((x) => x.id));
    assert.equal(a.length, 20); // 20 x 3 s = 60 s
    assert.equal(takeMinutes(items, 1000, 1).length, 100);
  });

  it('the dev split holds out whole speakers when there are many, some of each speaker when few, else 15% of utterances', () => {
    const many = Array.from({ length: 100 }, (_, i) => ex(i, `s${i % 10}`));
    const s = splitDev(many, 1);
    assert.equal(s.split, 'speakers');
    assert.ok(s.devSpeakers.length >= 1 && s.devSpeakers.length < 10);
    for (const e of s.dev) assert.ok(s.devSpeakers.includes(e.speaker!));
    for (const e of s.train) assert.ok(!s.devSpeakers.includes(e.speaker!));
    assert.equal(s.train.length + s.dev.length, 100);

    const few = Array.from({ length: 60 }, (_, i) => ex(i, `s${i % 5}`));
    const f = splitDev(few, 1);
    assert.equal(f.split, 'per-speaker');
    assert.deepEqual(f.devSpeakers, []);
    assert.equal(f.dev.length, 9); // round(0.15 x 60)
    for (let k = 0; k < 5; k++) {
      const n = f.dev.filter((e) => e.speaker === `s${k}`).length;
      assert.ok(n === 1 || n === 2, `speaker s${k}: ${n} dev utterances`);
      assert.equal(f.train.filter((e) => e.speaker === `s${k}`).length, 12 - n);
    }
    const skewed = splitDev(Array.from({ length: 100 }, (_, i) => ex(i, i < 50 ? 'big' : `s${i % 4}`)), 3);
    assert.equal(skewed.dev.length, 15);
    assert.ok(Math.abs(skewed.dev.filter((e) => e.speaker === 'big').length - 7.5) <= 1, 'a speaker with half the data gets half the dev set');
    assert.equal(new Set([...f.train, ...f.dev].map((e) => e.id)).size, 60);
    assert.deepEqual(splitDev(few, 1).dev.map((e) => e.id), f.dev.map((e) => e.id));
    assert.notDeepEqual(splitDev(few, 2).dev.map((e) => e.id), f.dev.map((e) => e.id));

    const noSpk = splitDev(Array.from({ length: 40 }, (_, i) => ex(i)), 1);
    assert.equal(noSpk.split, 'utterances');
    assert.equal(noSpk.dev.length, 6);
    assert.deepEqual(noSpk.devSpeakers, []);
  });

  it('--dev-split overrides the choice, and refuses a split by speaker without speakers', () => {
    const few = Array.from({ length: 60 }, (_, i) => ex(i, `s${i % 5}`));
    const bySpk = splitDev(few, 1, 'speakers');
    assert.equal(bySpk.split, 'speakers');
    assert.ok(bySpk.devSpeakers.length >= 1);
    for (const e of bySpk.dev) assert.ok(bySpk.devSpeakers.includes(e.speaker!));
    const many = Array.from({ length: 100 }, (_, i) => ex(i, `s${i % 10}`));
    const share = splitDev(many, 1, 'per-speaker');
    assert.equal(share.split, 'per-speaker');
    assert.equal(new Set(share.dev.map((e) => e.speaker)).size, 10, 'every speaker in dev');
    assert.equal(splitDev(many, 1, 'utterances').split, 'utterances');
    const noSpk = Array.from({ length: 40 }, (_, i) => ex(i));
    assert.throws(() => splitDev(noSpk, 1, 'speakers'), /--dev-split speakers needs a speaker for every utterance and at least 2 speakers \(found 0\)/);
    assert.throws(() => splitDev([...few, ex(99)], 1, 'per-speaker'), /found 5, and utterances without one/);
  });

  it('--ensemble folds: dev sets that cover every utterance once, split as the dev set is (whole speakers, each speaker dealt round, or at random)', () => {
    const covers = (folds: { train: Example[]; dev: Example[] }[], n: number): void => {
      const devIds = folds.flatMap((f) => f.dev.map((e) => e.id));
      assert.equal(devIds.length, n);
      assert.equal(new Set(devIds).size, n, 'each utterance in exactly one dev fold');
      for (const f of folds) {
        assert.equal(f.train.length + f.dev.length, n);
        const dev = new Set(f.dev);
        assert.ok(f.train.every((e) => !dev.has(e)), 'a member never trains on its own fold');
      }
    };
    const many = Array.from({ length: 100 }, (_, i) => ex(i, `s${i % 10}`));
    const bySpk = foldSplit(many, 1, 4);
    assert.equal(bySpk.split, 'speakers');
    covers(bySpk.folds, 100);
    for (const f of bySpk.folds) {
      assert.ok(f.devSpeakers.length >= 2 && f.devSpeakers.length <= 3, `dev speakers ${f.devSpeakers}`);
      assert.ok(f.train.every((e) => !f.devSpeakers.includes(e.speaker!)), 'whole speakers held out');
    }
    const few = Array.from({ length: 62 }, (_, i) => ex(i, `s${i % 5}`));
    const share = foldSplit(few, 1, 4);
    assert.equal(share.split, 'per-speaker');
    covers(share.folds, 62);
    assert.deepEqual(share.folds.map((f) => f.dev.length).sort(), [15, 15, 16, 16], 'folds differ in size by one at most');
    for (const f of share.folds) for (let k = 0; k < 5; k++) {
      const n = f.dev.filter((e) => e.speaker === `s${k}`).length;
      assert.ok(n >= 2 && n <= 4, `every speaker in every fold (s${k}: ${n})`);
    }
    assert.deepEqual(foldSplit(few, 1, 4).folds.map((f) => f.dev.map((e) => e.id)), share.folds.map((f) => f.dev.map((e) => e.id)), 'seeded');
    const anon = foldSplit(Array.from({ length: 30 }, (_, i) => ex(i)), 2, 3);
    assert.equal(anon.split, 'utterances');
    covers(anon.folds, 30);
    assert.equal(foldSplit(few, 1, 3, 'speakers').split, 'speakers', '5 speakers make 3 folds of whole speakers on request');
    assert.throws(() => foldSplit(few, 1, 6, 'speakers'), /needs at least 6 speakers, found 5/);
    assert.throws(() => foldSplit(few.slice(0, 7), 1, 4), /--ensemble 4 needs at least 8 usable utterances \(two per fold\), found 7/);
  });

  it('CTC needs one frame per label plus one between repeats', () => {
    assert.equal(framesNeeded([1, 2, 3]), 3);
    assert.equal(framesNeeded([1, 1, 2, 2, 2]), 8);
  });

  it('speed perturbation: a copy per factor other than 1, as much shorter or longer, same transcript', async function () {
    this.timeout(20000);
    const md = loadManifest(path.join('models', 'base-en'));
    const enc = await Encoder.create(md, { threads: 1 });
    try {
      const audio = path.join('audio-fixtures', 'speech-en-us-16k.wav');
      const orig = await enc.encode(loadAudio(audio));
      const e: Example = { id: 'a', audio, text: 'x', labels: new Int32Array([3, 4]), seconds: 2, frames: orig.frames, T: orig.numFrames };
      const copies = await speedPerturb([e], [0.9, 1, 1.1], localFileEncoder(enc));
      assert.deepEqual(copies.map((c) => c.id), ['a@0.9', 'a@1.1']);
      for (const [c, f] of copies.map((c, i) => [c, [0.9, 1.1][i]] as const)) {
        assert.ok(Math.abs(c.T - orig.numFrames / f) <= 2, `${c.id}: ${c.T} frames, original ${orig.numFrames}`);
        assert.ok(Math.abs(c.seconds - 2 / f) < 1e-9);
        assert.equal(c.frames.length, c.T * orig.dim);
        assert.equal(c.labels, e.labels);
      }
      // The copies are new audio, not the original frames.
      assert.notDeepEqual(copies[0].frames.subarray(0, 100), orig.frames.subarray(0, 100));
    } finally {
      await enc.release();
    }
  });
});
