import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ArpaLm } from '../../lib/decode/arpa.js';
import { ctcAlign } from '../../lib/decode/ctc-align.js';
import { ctcBeamSearch, decodingName } from '../../lib/decode/ctc-beam.js';
import { ctcGreedy } from '../../lib/decode/ctc-greedy.js';
import { Lexicon } from '../../lib/decode/lexicon.js';
import { decodeInSegments, splitAtPauses } from '../../lib/decode/segment.js';
import { kthLargest } from '../../lib/math/select.js';
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

  it('kthLargest (the beam search\'s cut) equals sorting, with ties and -Infinity, and leaves its input alone', () => {
    let seed = 3;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rnd() * 200);
      // Few distinct values, so that ties are common; some -Infinity.
      const xs = Float64Array.from({ length: n }, () => (rnd() < 0.1 ? -Infinity : Math.floor(rnd() * 12) - 6));
      const copy = Float64Array.from(xs);
      const sorted = [...xs].sort((a, b) => b - a);
      const k = 1 + Math.floor(rnd() * n);
      assert.equal(kthLargest(xs, n, k, new Float64Array(n + 5)), sorted[k - 1], `n ${n}, k ${k}`);
      assert.deepEqual(xs, copy);
    }
  });

  it('ArpaLm on typed arrays equals Katz back-off over plain maps on the bundled LM (every order, unknown words, long histories); a thread given share() reads the same', async () => {
    const file = path.join('models', 'base-en', 'lm.arpa.gz');
    const text = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
    // The reference: the file's n-grams in maps keyed by the joined words, back-off written out plainly.
    const grams: Map<string, [number, number]>[] = [];
    let k = -1;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      const sec = /^\\(\d+)-grams:$/.exec(line);
      if (sec) { k = Number(sec[1]) - 1; grams[k] = new Map(); continue; }
      if (k < 0 || !line || line.startsWith('\\')) continue;
      const p = line.split(/\s+/);
      grams[k].set(p.slice(1, k + 2).join(' '), [Number(p[0]), p.length > k + 2 ? Number(p[k + 2]) : 0]);
    }
    const ref = (h: string[], w: string): number => {
      const ctx = h.slice(-(grams.length - 1));
      let bo = 0;
      for (let n = ctx.length; n >= 0; n--) {
        const c = ctx.slice(ctx.length - n);
        const e = grams[n].get([...c, w].join(' '));
        if (e) return (bo + e[0]) * Math.LN10;
        if (n > 0) bo += grams[n - 1].get(c.join(' '))?.[1] ?? 0;
      }
      return (bo - 6) * Math.LN10;
    };
    const lm = ArpaLm.parse(text, file);
    const words = [...grams[0].keys()];
    let seed = 7;
    const pick = (): string => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % 23 === 0 ? 'notaword' : words[seed % words.length]; };
    // Queries that hit each order: histories and words taken from the LM's own trigrams, then random ones.
    const queries: [string[], string][] = [...grams[2].keys()].filter((_, i) => i % 50 === 0).map((g) => { const w = g.split(' '); return [w.slice(0, 2), w[2]]; });
    for (const g of [...grams[1].keys()].filter((_, i) => i % 100 === 0)) { const w = g.split(' '); queries.push([[pick(), w[0]], w[1]]); }
    for (let i = 0; i < 5000; i++) queries.push([Array.from({ length: i % 6 }, pick), pick()]);
    let hits = [0, 0, 0];
    for (const [h, w] of queries) {
      assert.equal(lm.logProb(h, w), ref(h, w), `${h.join(' ')} | ${w}`);
      if (grams[2].has([...h.slice(-2), w].join(' '))) hits[2]++; else if (grams[1].has([...h.slice(-1), w].join(' '))) hits[1]++; else hits[0]++;
    }
    assert.ok(hits.every((n) => n > 100), `every order queried: ${hits}`);
    assert.equal(lm.has('notaword'), false);
    assert.equal(lm.has(words[5]), true);
    assert.deepEqual([...lm.words()].length, words.filter((w) => !['<s>', '</s>', '<unk>'].includes(w)).length);
    // Another thread: the shared tables are read in place there.
    const { Worker } = await import('node:worker_threads');
    const code = `const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then(({ ArpaLm }) => { const lm = ArpaLm.fromShared(workerData.lm); parentPort.postMessage(workerData.q.map(([h, w]) => lm.logProb(h, w))); });`;
    const q = queries.slice(0, 2000);
    const url = new URL('../../lib/decode/arpa.js', import.meta.url).href;
    const theirs = await new Promise<number[]>((resolve, reject) => {
      const wk = new Worker(code, { eval: true, workerData: { url, lm: lm.share(), q } });
      wk.once('message', (m: number[]) => { void wk.terminate(); resolve(m); });
      wk.once('error', reject);
    });
    assert.deepEqual(theirs, q.map(([h, w]) => lm.logProb(h, w)));
    assert.throws(() => ArpaLm.parse('\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0 a\nxyz b\n\\end\\\n', 'small.arpa'), /small\.arpa: line 6: malformed 1-gram/);
  });

  it('ArpaLm.load: an LM still held is not parsed twice; a changed file is read again', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-arpa-'));
    try {
      const f = path.join(dir, 'lm.arpa');
      fs.writeFileSync(f, ARPA);
      const a = ArpaLm.load(f), b = ArpaLm.load(f);
      assert.equal(a, b, 'the same object');
      assert.notEqual(ArpaLm.load(f, -3), a, 'another OOV cost is another LM');
      fs.writeFileSync(f, ARPA.replace('-0.2 <s> red', '-0.25 <s> red'));
      fs.utimesSync(f, new Date(), new Date(Date.now() + 5000));
      const c = ArpaLm.load(f);
      assert.notEqual(c, a);
      assert.ok(Math.abs(c.logProb(['<s>'], 'red') - -0.25 * Math.LN10) < 1e-9, 'the new contents');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
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

  it('lexicon: only its words are spelled (strict), or new words pay a price (soft); hotwords are exempt', () => {
    const lex = new Lexicon(['kit', 'kat', 'dog', 'dog']);
    assert.equal(lex.size, 3);
    assert.ok(lex.has('kat') && !lex.has('ka') && !lex.has('cat'));
    const lp = frames([{ c: 0.6, k: 0.35 }, { a: 0.95 }, { t: 0.95 }, { ' ': 0.95 }, { d: 0.95 }, { o: 0.95 }, { g: 0.95 }]);
    const beam = (o: object): string => ctcBeamSearch(lp, 7, V, VOCAB, 0.04, { beam: 8, ...o }).text;
    assert.equal(beam({}), 'cat dog');
    assert.equal(beam({ lexicon: lex }), 'kat dog');
    assert.equal(beam({ lexicon: lex, oovPenalty: 0 }), 'cat dog'); // free: as without a lexicon
    assert.equal(beam({ lexicon: lex, oovPenalty: 0.3 }), 'cat dog'); // cheaper than the acoustic cost ln(0.6/0.35) = 0.54
    assert.equal(beam({ lexicon: lex, oovPenalty: 1 }), 'kat dog');
    assert.equal(beam({ lexicon: lex, hotwords: [{ phrase: 'cat', boost: 0 }] }), 'cat dog');
    assert.throws(() => beam({ lexicon: lex, oovPenalty: -1 }), /oovPenalty/);
    assert.deepEqual([...ArpaLm.parse(ARPA).words()].sort(), ['rad', 'red', 'tim']);
    assert.deepEqual([decodingName(1, false, false), decodingName(16, true, true), decodingName(8, true, false), decodingName(8, false, true), decodingName(8, false, false), decodingName(4, true, 'dictionary')], ['greedy', 'beam 16 + LM + lexicon', 'beam 8 + LM', 'beam 8 + lexicon', 'beam 8', 'beam 4 + LM + dictionary']);
  });

  it('LM look-ahead: a word in the making pays its best unigram in advance, so a narrow beam keeps the likely word', () => {
    const lm = ArpaLm.parse(ARPA);
    const lex = lm.lexicon();
    const ahead = lex.lookAhead(lm, (w) => lm.unigram(w));
    const at = (s: string): number => ahead[[...s].reduce((n, ch) => n.next.get(ch)!, lex.root).id];
    const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-5, `${a} vs ${b}`);
    close(at(''), -0.7 * Math.LN10); // red, the likeliest word
    close(at('r'), -0.7 * Math.LN10);
    close(at('ra'), -1.3 * Math.LN10);
    close(at('tim'), -1.5 * Math.LN10);
    assert.equal(ahead.length, lex.nodes);
    assert.equal(lex.lookAhead(lm, () => 0), ahead, 'cached per key');
    // "ra" sounds a little likelier than "re" (ln 0.55/0.4 = 0.32 nats), but the LM prefers red by
    // 0.5 x 0.6 x ln 10 = 0.69: with one hypothesis kept, only the look-ahead sees it in time.
    const lp = frames([{ r: 0.95 }, { a: 0.55, e: 0.4 }, { d: 0.95 }]);
    const beam = (o: object): string => ctcBeamSearch(lp, 3, V, VOCAB, 0.04, { lm, lexicon: lex, lmWeight: 0.5, wordBonus: 0, ...o }).text;
    assert.equal(beam({ beam: 1, lookAhead: false }), 'rad');
    assert.equal(beam({ beam: 1 }), 'red');
    assert.equal(beam({ beam: 8, lookAhead: false }), 'red');
    assert.equal(beam({ beam: 8 }), 'red');
    // The advance is taken back when a word ends (else every word would pay its LM cost twice and the bonus
    // tuned without look-ahead would not hold): a wide search gives the same words either way.
    const two = frames([...spell('red '), ...spell('tim')]);
    for (const lookAhead of [true, false]) assert.equal(ctcBeamSearch(two, 7, V, VOCAB, 0.04, { beam: 4, lm, lexicon: lex, lookAhead }).text, 'red tim');
  });

  it('a blank penalty keeps a sound the model half blanked out', () => {
    const lp = frames([{ c: 0.95 }, { _: 0.6, a: 0.35 }, { t: 0.95 }]);
    const beam = (blankPenalty?: number): string => ctcBeamSearch(lp, 3, V, VOCAB, 0.04, { beam: 8, blankPenalty }).text;
    assert.equal(beam(), 'ct');
    assert.equal(beam(0.2), 'ct'); // ln(0.6 / 0.35) = 0.54 nats
    assert.equal(beam(0.7), 'cat');
  });

  it('forced alignment gives each label its frames', () => {
    const lp = frames(spell('__cc_aa_t'));
    const e = ctcAlign(lp, 9, V, [id('c'), id('a'), id('t')], 0)!;
    assert.deepEqual(e.map((x) => [x.first, x.last]), [[2, 3], [5, 6], [8, 8]]);
    assert.equal(ctcAlign(lp, 2, V, [id('c'), id('a'), id('t')], 0), null, 'too few frames for three labels');
  });

  it('long recordings: cuts fall in pauses, within the limit, and cover every frame', () => {
    // "ab" then 3 blanks, repeated: the pauses are frames 2-4, 7-9, ...
    const lp = frames(spell('ab___'.repeat(20)));
    const T = 100;
    const segs = splitAtPauses(lp, T, V, 0, 12);
    assert.equal(segs[0][0], 0);
    assert.equal(segs[segs.length - 1][1], T);
    for (let i = 0; i < segs.length; i++) {
      const [s, e] = segs[i];
      assert.ok(e - s >= 1 && e - s <= 12, `segment ${s}-${e}`);
      if (i) assert.equal(s, segs[i - 1][1]);
      if (e < T) assert.equal(e % 5, 3, `cut ${e} is the middle of a pause`);
    }
    assert.ok(segs.length >= 9 && segs.length <= 10, `${segs.length} segments`);
    // With no pause at all, the cut goes where blank is likeliest.
    const noPause = frames(Array.from({ length: 20 }, (_, t) => (t === 13 ? { a: 0.6, _: 0.3 } : { a: 0.9, _: 0.05 })));
    assert.deepEqual(splitAtPauses(noPause, 20, V, 0, 16), [[0, 13], [13, 20]]);
  });

  it('segmented beam search equals one search when cuts are in pauses; times refer to the whole recording', () => {
    const text = 'the cat sat on the mat and the dog ran';
    const lp = frames(spell(text.split(' ').map((w) => `${w} __`).join('')));
    const T = lp.length / V;
    const lm = ArpaLm.parse(ARPA);
    const whole = ctcBeamSearch(lp, T, V, VOCAB, 0.04, { beam: 8, lm });
    let calls = 0;
    const seg = decodeInSegments(lp, T, V, 0, 0.04, 10, (x, n, history, last) => {
      calls++;
      return ctcBeamSearch(x, n, V, VOCAB, 0.04, { beam: 8, lm, history, sentenceEnd: last });
    });
    assert.ok(calls >= 5, `${calls} segments`);
    assert.equal(seg.text, text);
    assert.equal(seg.text, whole.text);
    assert.deepEqual(seg.words.map((w) => [w.start, w.end]), whole.words.map((w) => [w.start, w.end]));
  });

  it('beam search with an LM decodes an hour of frames in bounded time', function () {
    this.timeout(120000);
    // 1 hour at 40 ms: 90,000 frames of words and pauses.
    const unit = spell('red__ rad__ tim___ ');
    const T = 90000;
    const lp = frames(Array.from({ length: T }, (_, t) => unit[t % unit.length]));
    const lm = ArpaLm.parse(ARPA);
    const t0 = performance.now();
    const h = decodeInSegments(lp, T, V, 0, 0.04, 750, (x, n, history, last) =>
      ctcBeamSearch(x, n, V, VOCAB, 0.04, { beam: 8, lm, history, sentenceEnd: last }));
    const seconds = (performance.now() - t0) / 1000;
    const greedy = ctcGreedy(lp, T, V, VOCAB, 0.04);
    assert.equal(h.words.length, greedy.words.length);
    assert.equal(h.text, greedy.text);
    assert.ok(h.words[h.words.length - 1].end <= 3600 && h.words[h.words.length - 1].end > 3599);
    assert.ok(seconds < 60, `${seconds.toFixed(1)} s for an hour`);
  });
});
