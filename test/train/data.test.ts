import assert from 'node:assert/strict';
import { framesNeeded, splitDev, takeMinutes, type Example } from '../../lib/train/data.js';

const ex = (i: number, speaker?: string): Example => ({ id: `u${i}`, speaker, text: 'x', labels: new Int32Array([3]), seconds: 3, frames: new Float32Array(8), T: 1 });

describe('train: data helpers', () => {
  it('--minutes takes a deterministic subset of about that many minutes', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ id: i, duration: 3 }));
    const a = takeMinutes(items, 1, 7), b = takeMinutes(items, 1, 7), c = takeMinutes(items, 1, 8);
    assert.deepEqual(a.map((x) => x.id), b.map((x) => x.id));
    assert.notDeepEqual(a.map((x) => x.id), c.map((x) => x.id));
    assert.equal(a.length, 20); // 20 x 3 s = 60 s
    assert.equal(takeMinutes(items, 1000, 1).length, 100);
  });

  it('the dev split holds out whole speakers (about 15%), or 15% of utterances without speakers', () => {
    const withSpk = Array.from({ length: 60 }, (_, i) => ex(i, `s${i % 6}`));
    const s = splitDev(withSpk, 1);
    assert.ok(s.devSpeakers.length >= 1);
    for (const e of s.dev) assert.ok(s.devSpeakers.includes(e.speaker!));
    for (const e of s.train) assert.ok(!s.devSpeakers.includes(e.speaker!));
    assert.equal(s.train.length + s.dev.length, 60);
    const noSpk = splitDev(Array.from({ length: 40 }, (_, i) => ex(i)), 1);
    assert.equal(noSpk.dev.length, 6);
    assert.deepEqual(noSpk.devSpeakers, []);
  });

  it('CTC needs one frame per label plus one between repeats', () => {
    assert.equal(framesNeeded([1, 2, 3]), 3);
    assert.equal(framesNeeded([1, 1, 2, 2, 2]), 8);
  });
});
