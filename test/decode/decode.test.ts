import assert from 'node:assert/strict';
import { ArpaLm } from '../../lib/decode/arpa.js';
import { ctcAlign } from '../../lib/decode/ctc-align.js';
import { ctcBeamSearch } from '../../lib/decode/ctc-beam.js';
import { ctcGreedy } from '../../lib/decode/ctc-greedy.js';
import { CHAR_VOCAB } from '../../lib/text/normalize.js';

const VOCAB = { symbols: CHAR_VOCAB, blank: 0 };
const V = CHAR_VOCAB.length;
const id = (s: string): number => (s === '_' ? 0 : CHAR_VOCAB.indexOf(s));

/** Log-probabilities from per-frame distributions like {c: 0.9} (the rest shared by other symbols). */
function frames(dists: Record<string, number>[]): Float32Array {
  const x = new Float32Array(dists.length * V);
  dists.forEach((d, t) => {
    const named = Object.values(d).reduce((a, b) => a + b, 0);
    const rest = (1 - named) / (V - Object.keys(d).length);
    for (let v = 0; v < V; v++) x[t * V + v] = Math.log(rest > 0 ? rest : 1e-9);
    for (const [s, p] of Object.entries(d)) x[t * V + id(s)] = Math.log(p);
  });
  return x;
}
const spell = (s: string): Record<string, number>[] => [...s].map((ch) => ({ [ch]: 0.97 }));

const ARPA = `
\\data\\
ngram 1=6
ngram 2=4

\\1-grams:
-1.0 <s> -0.5
-0.7 red -0.3
-1.3 rad -0.2
-0.8 </s>
-1.5 tim -0.1
-2.0 <unk>

\\2-grams:
-0.2 <s> red
-0.4 red </s>
-1.5 <s> rad
-0.3 rad </s>

\\end\\
`;

describe('decode', () => {
  it('greedy: merges repeats, drops blanks, times words from their frames', () => {
    const lp = frames(spell('cc_at__ d_og'));
    const h = ctcGreedy(lp, 12, V, VOCAB, 0.04);
    assert.equal(h.text, 'cat dog');
    assert.deepEqual(h.words.map((w) => [w.word, w.start, w.end]), [['cat', 0, 0.2], ['dog', 0.32, 0.48]]);
    for (const w of h.words) assert.ok(Math.abs(w.confidence - 0.97) < 1e-3);
    // A blank between two identical characters keeps both.
    assert.equal(ctcGreedy(frames(spell('l_l')), 3, V, VOCAB, 0.04).text, 'll');
  });

  it('beam search finds the most probable labelling where greedy does not', () => {
    // P("") = 0.6 * 0.6 = 0.36; P("a") = 0.4*0.4 + 0.4*0.6 + 0.6*0.4 = 0.64.
    const lp = frames([{ _: 0.6, a: 0.4 }, { _: 0.6, a: 0.4 }]);
    assert.equal(ctcGreedy(lp, 2, V, VOCAB, 0.04).text, '');
    assert.equal(ctcBeamSearch(lp, 2, V, VOCAB, 0.04, { beam: 4 }).text, 'a');
  });

  it('beam search equals greedy on confident outputs', () => {
    const lp = frames(spell('th_e_ ca_t sat'));
    assert.equal(ctcBeamSearch(lp, 14, V, VOCAB, 0.04, { beam: 8 }).text, ctcGreedy(lp, 14, V, VOCAB, 0.04).text);
  });

  it('ARPA back-off probabilities (hand-computed, natural log)', () => {
    const lm = ArpaLm.parse(ARPA, 'test', -2.0);
    assert.equal(lm.order, 2);
    const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
    close(lm.logProb(['<s>'], 'red'), -0.2 * Math.LN10);
    close(lm.logProb(['red'], 'rad'), (-0.3 - 1.3) * Math.LN10); // back-off of "red" + unigram
    close(lm.logProb(['rad'], '</s>'), -0.3 * Math.LN10);
    close(lm.logProb(['<s>'], 'xyz'), (-0.5 - 2.0) * Math.LN10); // back-off + the OOV log-probability
    close(ArpaLm.parse(ARPA).logProb(['<s>'], 'xyz'), (-0.5 - 6.0) * Math.LN10); // default OOV cost
    assert.throws(() => ArpaLm.parse('hello'), /not an ARPA language model/);
  });

  it('shallow fusion: the LM turns acoustically preferred "rad" into "red"', () => {
    const lp = frames([{ r: 0.95 }, { a: 0.5, e: 0.45 }, { d: 0.95 }]);
    assert.equal(ctcBeamSearch(lp, 3, V, VOCAB, 0.04, { beam: 8 }).text, 'rad');
    const lm = ArpaLm.parse(ARPA);
    assert.equal(ctcBeamSearch(lp, 3, V, VOCAB, 0.04, { beam: 8, lm, lmWeight: 0.5 }).text, 'red');
  });

  it('hotwords: a boosted word wins a close call; a partial match gets no bonus', () => {
    const lp = frames([{ t: 0.95 }, { i: 0.5, o: 0.45 }, { m: 0.95 }]);
    assert.equal(ctcBeamSearch(lp, 3, V, VOCAB, 0.04, { beam: 8 }).text, 'tim');
    assert.equal(ctcBeamSearch(lp, 3, V, VOCAB, 0.04, { beam: 8, hotwords: [{ phrase: 'tom', boost: 0.5 }] }).text, 'tom');
    assert.equal(ctcBeamSearch(lp, 3, V, VOCAB, 0.04, { beam: 8, hotwords: [{ phrase: 'tomato', boost: 0.5 }] }).text, 'tim');
  });

  it('forced alignment gives each label its frames', () => {
    const lp = frames(spell('__cc_aa_t'));
    const e = ctcAlign(lp, 9, V, [id('c'), id('a'), id('t')], 0)!;
    assert.deepEqual(e.map((x) => [x.first, x.last]), [[2, 3], [5, 6], [8, 8]]);
    assert.equal(ctcAlign(lp, 2, V, [id('c'), id('a'), id('t')], 0), null, 'too few frames for three labels');
  });
});
