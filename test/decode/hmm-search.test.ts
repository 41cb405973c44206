import assert from 'node:assert/strict';
import { ArpaLm } from '../../lib/decode/arpa.js';
import { HmmGraph, parseMdefText, parseTransitions, type HmmTopology } from '../../lib/decode/hmm-graph.js';
import { hmmSearch } from '../../lib/decode/hmm-search.js';
import { hmmTwoPass } from '../../lib/decode/hmm-passes.js';

// A tiny PocketSphinx-style model: phones SIL, A, B, C; triphones for the contexts the tests say.
const MDEF = `0.3
5 n_base
8 n_tri
36 n_tied_state
#
#base lft  rt p attrib tmat      ... state id's ...
  SIL   -   - - filler    0      0      1      2 N
    A   -   - -    n/a    1      3      4      5 N
    B   -   - -    n/a    2      6      7      8 N
    C   -   - -    n/a    3      9     10     11 N
+NSN+   -   - - filler    4     12     13     14 N
    A SIL   B b    n/a    1     15     16     17 N
    A   C   B b    n/a    1     18     19     20 N
    B   A SIL e    n/a    2     21     22     23 N
    B   A   C e    n/a    2     24     25     26 N
    C   B SIL s    n/a    3     27     28     29 N
    C SIL SIL s    n/a    3     30     31     32 N
    C   B   A s    n/a    3     33     34     35 N
`;

/** s3 transition matrices, every stay and advance equally likely (counts 5 and 5). */
function transitions(m: number, magic = 0x11223344): Uint8Array {
  const head = Buffer.from('s3\nversion 1.0\nendhdr\n');
  const body = Buffer.alloc(20 + 4 * m * 12);
  body.writeUInt32LE(magic, 0);
  body.writeInt32LE(m, 4); body.writeInt32LE(3, 8); body.writeInt32LE(4, 12); body.writeInt32LE(m * 12, 16);
  for (let k = 0; k < m; k++) for (let j = 0; j < 3; j++) { body.writeFloatLE(5, 20 + 4 * ((k * 3 + j) * 4 + j)); body.writeFloatLE(5, 20 + 4 * ((k * 3 + j) * 4 + j + 1)); }
  return Buffer.concat([head, body]);
}

const LM = `\\data\\
ngram 1=5

\\1-grams:
-99 <s> 0
-0.5 ab 0
-0.7 c 0
-1.0 ba 0
-0.3 </s> 0

\\end\\
`;

const topo: HmmTopology = { ...parseMdefText(MDEF, 'mdef.txt'), ...parseTransitions(transitions(5), 'transition_matrices') };
const lm = ArpaLm.parse(LM, 'lm');
const WORDS = ['ab', 'c', 'ba'];
const PRONS: [number, string[]][] = [[0, ['A', 'B']], [1, ['C']], [2, ['B', 'A']]];
const graph = HmmGraph.build(topo, PRONS, (w) => lm.unigram(WORDS[w]));
const S = topo.senones;

/** Emissions: each senone of `path` best (0) for `frames` frames in a row, every other senone -30. */
function emissions(path: number[], frames = 2): { emit: Float32Array; T: number } {
  const T = path.length * frames, emit = new Float32Array(T * S).fill(-30);
  path.forEach((s, i) => { for (let f = 0; f < frames; f++) emit[(i * frames + f) * S + s] = 0; });
  return { emit, T };
}
const LN10 = Math.log(10), HALF = Math.log(0.5);

describe('HMM search (hmm-graph, hmm-search)', () => {
  it('reads a text model definition and s3 transition matrices', () => {
    assert.deepEqual(topo.phones, ['SIL', 'A', 'B', 'C', '+NSN+']);
    assert.equal(topo.senones, 36);
    assert.deepEqual([...topo.tri.get('B A C e')!], [24, 25, 26, 2]);
    assert.ok(Math.abs(topo.selfLp[4] - HALF) < 1e-12 && Math.abs(topo.nextLp[14] - HALF) < 1e-12);
    assert.throws(() => parseMdefText('hello\n', 'm.txt'), /m\.txt: .*not a text model definition/);
    assert.throws(() => parseMdefText(MDEF.replace('SIL   -   - - filler    0      0      1      2 N', 'SIL - - - filler 0 0 1 2 X'), 'm.txt'), /m\.txt: line 7: expected/);
    assert.throws(() => parseMdefText(MDEF.replace('15     16     17', '15     16     99'), 'm.txt'), /senone id is >= n_tied_state/);
    assert.throws(() => parseTransitions(transitions(5, 0x44332211), 'tm'), /tm: byte-order magic/);
    assert.throws(() => parseTransitions(transitions(5).subarray(0, 60), 'tm'), /tm: truncated/);
  });

  it('builds word-initial copies per left phone and word-final copies per right phone', () => {
    // "ab": A after SIL, after C, and (no triphone) the CI A for the other left phones: 3 roots; "ba" and "c" add theirs.
    const abRoots = graph.roots.filter((r) => r.first === topo.phones.indexOf('A'));
    assert.equal(abRoots.length, 3);
    const sen = (r: { node: number }): number => graph.senone[3 * r.node];
    assert.deepEqual(abRoots.map(sen).sort((a, b) => a - b), [3, 15, 18]);
    // "ab"'s last phone B: one copy for right phone SIL, one for C, one (CI) for A and B.
    const ends = [];
    for (let n = 0; n < graph.size; n++) if (graph.lastPhone[n] === topo.phones.indexOf('B')) ends.push([graph.senone[3 * n], [...graph.rightList.subarray(graph.rightStart[n], graph.rightStart[n + 1])].map((r) => topo.phones[r]).sort().join(' ')]);
    assert.deepEqual(ends.sort(), [[21, 'SIL'], [24, 'C'], [6, 'A B']].sort());
    assert.throws(() => HmmGraph.build(topo, [[0, ['A', 'X']]], () => 0), /phone "X" is not one of the acoustic model's/);
  });

  it('finds the words whose cross-word triphones explain the frames, with the exact path score', () => {
    // "ab c": A(SIL, B, b), B(A, C, e), C(B, SIL, s); 2 frames per state.
    const { emit, T } = emissions([15, 16, 17, 24, 25, 26, 27, 28, 29]);
    const r = hmmSearch(graph, emit, T, S, 0.01, { lm, words: WORDS, lmWeight: 2, wordPenalty: -1, silencePenalty: -50 });
    assert.deepEqual(r.words.map((w) => w.word), ['ab', 'c']);
    // Every frame but the first takes one transition (ln 0.5) and the last HMM exits (ln 0.5): T ln 0.5 in all;
    // no senone off the path (each would cost 30); the LM: ln P(ab) + ln P(c) + ln P(</s>), weighted; 2 words.
    const expected = T * HALF + 2 * LN10 * (-0.5 - 0.7 - 0.3) - 2;
    assert.ok(Math.abs(r.score - expected) < 1e-3, `score ${r.score}, expected ${expected}`);
    assert.deepEqual(r.words.map((w) => [w.start, w.end].map((x) => Math.round(x * 100))), [[0, 12], [12, 18]]);
  });

  it('takes a pause through silence, paying its penalty, and keeps the LM history across it', () => {
    // SIL (3 states), then "c" after silence: C(SIL, SIL, s).
    const { emit, T } = emissions([0, 1, 2, 30, 31, 32]);
    const r = hmmSearch(graph, emit, T, S, 0.01, { lm, words: WORDS, lmWeight: 1, wordPenalty: 0, silencePenalty: -4 });
    assert.deepEqual(r.words.map((w) => w.word), ['c']);
    assert.ok(Math.abs(r.score - (T * HALF - 4 + LN10 * (-0.7 - 0.3))) < 1e-3, `score ${r.score}`);
    assert.equal(Math.round(r.words[0].start * 100), 6);
  });

  it('lets the LM outweigh weak acoustic evidence, and prunes to maxActive', () => {
    // The frames of "ba" (B, A as CI phones), made ambiguous with "ab": with a heavy LM weight the likelier "ab" wins.
    const { emit, T } = emissions([6, 7, 8, 3, 4, 5]);
    for (let t = 0; t < T; t++) for (const s of [15, 16, 17, 21, 22, 23, 3, 4, 5, 6, 7, 8]) emit[t * S + s] = Math.max(emit[t * S + s], -1);
    const light = hmmSearch(graph, emit, T, S, 0.01, { lm, words: WORDS, lmWeight: 0.1, wordPenalty: 0 });
    const heavy = hmmSearch(graph, emit, T, S, 0.01, { lm, words: WORDS, lmWeight: 20, wordPenalty: 0 });
    assert.deepEqual(light.words.map((w) => w.word), ['ba']);
    assert.deepEqual(heavy.words.map((w) => w.word), ['ab']);
    const capped = hmmSearch(graph, emit, T, S, 0.01, { lm, words: WORDS, lmWeight: 0.1, wordPenalty: 0, maxActive: 1 });
    assert.ok(capped.score <= light.score);
    assert.throws(() => hmmSearch(graph, emit, T, S - 1, 0.01, { lm, words: WORDS }), /35 senones per frame, the model 36/);
  });

  it('chooses a word\'s predecessor again once the word is known (the trigram after it, not only its exit score)', () => {
    // "ab" and "ab2" sound the same and end together; "ab" is likelier alone, but "c" follows "ab2".
    const LM2 = '\\data\\\nngram 1=5\nngram 2=1\n\n\\1-grams:\n-99 <s> 0\n-0.5 ab 0\n-0.6 ab2 0\n-2.0 c 0\n-0.3 </s> 0\n\n\\2-grams:\n-0.1 ab2 c\n\n\\end\\\n';
    const lm2 = ArpaLm.parse(LM2, 'lm2');
    const words = ['ab', 'c', 'ab2'];
    const g = HmmGraph.build(topo, [[0, ['A', 'B']], [1, ['C']], [2, ['A', 'B']]], (w) => lm2.unigram(words[w]));
    const { emit, T } = emissions([15, 16, 17, 24, 25, 26, 27, 28, 29]);
    const o = { lm: lm2, words, lmWeight: 2, wordPenalty: -1, silencePenalty: -50 };
    const r = hmmSearch(g, emit, T, S, 0.01, o);
    assert.deepEqual(r.words.map((w) => w.word), ['ab2', 'c']);
    const expected = T * HALF + 2 * LN10 * (-0.6 - 0.1 - 0.3) - 2;
    assert.ok(Math.abs(r.score - expected) < 1e-3, `score ${r.score}, expected ${expected}`);
    // Without it, the word end that was best alone ("ab") is the only way into "c".
    const kept = hmmSearch(g, emit, T, S, 0.01, { ...o, reselect: false });
    assert.deepEqual(kept.words.map((w) => w.word), ['ab', 'c']);
    assert.ok(Math.abs(kept.score - (T * HALF + 2 * LN10 * (-0.5 - 2.0 - 0.3) - 2)) < 1e-3, `score ${kept.score}`);
  });

  it('searches again among the first pass\'s candidates at the second pass\'s heavier LM weight', () => {
    // As above: "ba" by the frames, "ab" by the LM. A light first pass picks "ba" and keeps "ab" as a candidate; "c" never ends near the best.
    const { emit, T } = emissions([6, 7, 8, 3, 4, 5]);
    for (let t = 0; t < T; t++) for (const s of [15, 16, 17, 21, 22, 23, 3, 4, 5, 6, 7, 8]) emit[t * S + s] = Math.max(emit[t * S + s], -1);
    const prons = (w: number): string[][] => PRONS.filter(([id]) => id === w).map(([, p]) => p);
    const o = { lm, words: WORDS, lmWeight: 0.1, wordPenalty: 0, prons };
    const r = hmmTwoPass(graph, emit, T, S, 0.01, { ...o, secondLmWeight: 20 });
    assert.deepEqual(r.firstPass.map((w) => w.word), ['ba']);
    assert.deepEqual([...r.candidates], [0, 2]);
    assert.equal(r.secondPassWords, 2);
    assert.deepEqual(r.words.map((w) => w.word), ['ab']);
    const one = hmmTwoPass(graph, emit, T, S, 0.01, { ...o, secondLmWeight: 0 });
    assert.deepEqual(one.words.map((w) => w.word), ['ba']);
    assert.equal(one.secondPassWords, 0);
  });
});
