import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { align, chars, rate, scoreUtterance, words } from '../../lib/eval/wer.js';
import { ROOT } from '../helpers/fixtures.js';

describe('eval/wer', () => {
  it('hand-computed cases', () => {
    const w = (r: string, h: string) => align(words(r), words(h));
    assert.deepEqual(w('the cat sat', 'the cat sat'), { ref: 3, substitutions: 0, deletions: 0, insertions: 0 });
    assert.deepEqual(w('the cat sat', 'the bat sat'), { ref: 3, substitutions: 1, deletions: 0, insertions: 0 });
    assert.deepEqual(w('the cat sat', 'the sat'), { ref: 3, substitutions: 0, deletions: 1, insertions: 0 });
    assert.deepEqual(w('the cat sat', 'the cat sat down'), { ref: 3, substitutions: 0, deletions: 0, insertions: 1 });
    assert.deepEqual(w('', 'a b'), { ref: 0, substitutions: 0, deletions: 0, insertions: 2 });
    assert.deepEqual(w('a b', ''), { ref: 2, substitutions: 0, deletions: 2, insertions: 0 });
    assert.equal(rate(w('a b c d', 'a x c')), 0.5);
    assert.equal(rate(w('', '')), 0);
    assert.equal(rate(w('', 'x')), 1);
    // Characters exclude spaces: "ab cd" vs "abcd" has no character error.
    assert.deepEqual(align(chars('ab cd'), chars('abcd')), { ref: 4, substitutions: 0, deletions: 0, insertions: 0 });
    assert.deepEqual(align(chars('kitten'), chars('sitting')), { ref: 6, substitutions: 2, deletions: 0, insertions: 1 });
  });

  it('normalises both sides before scoring', () => {
    const s = scoreUtterance('Dr. Smith has 2 cats!', 'doctor smith has two cats');
    assert.equal(s.words.substitutions + s.words.deletions + s.words.insertions, 0);
    assert.equal(s.words.ref, 5);
  });

  it('agrees with NIST sclite on every pair of the committed set (counts per utterance)', () => {
    const dir = path.join(ROOT, 'test', 'fixtures', 'sclite');
    const pairs = fs.readFileSync(path.join(dir, 'pairs.tsv'), 'utf8').split('\n').filter((l) => l !== '');
    const expected = fs.readFileSync(path.join(dir, 'expected.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    assert.equal(expected.length, pairs.length);
    for (const [id, c, s, d, i] of expected) {
      const [ref, hyp] = pairs[Number(id.slice(1))].split('\t');
      const got = align(words(ref), words(hyp ?? ''));
      assert.deepEqual([got.ref - got.substitutions - got.deletions, got.substitutions, got.deletions, got.insertions], [c, s, d, i].map(Number), `${id}: ${ref} | ${hyp}`);
    }
  });
});
