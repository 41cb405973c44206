import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ArpaLm } from '../../lib/decode/arpa.js';
import { ctcBeamSearch } from '../../lib/decode/ctc-beam.js';
import { Pronunciations } from '../../lib/decode/pronunciations.js';
import { labeler } from '../../lib/train/data.js';
import { readHotwords } from '../../lib/cli/decode-options.js';

// A toy phone model: blank, word separator and eight phones.
const SYMBOLS = ['<blank>', ' ', 'T', 'UW', 'G', 'OW', 'K', 'AE', 'R', 'EH'];
const VOCAB = { symbols: SYMBOLS, blank: 0 };
const V = SYMBOLS.length;

const DICT = `# toy
to T UW
too T UW
two T UW
go G OW
cat K AE T
red R EH T
`;

/** Each phone for two frames at 0.9 then a blank; words separated by the ' ' symbol. */
function say(phones: string[]): { logp: Float32Array; T: number } {
  const seq: number[] = [];
  for (const p of phones) seq.push(SYMBOLS.indexOf(p), SYMBOLS.indexOf(p), 0);
  const x = new Float32Array(seq.length * V).fill(Math.log(0.1 / (V - 1)));
  seq.forEach((s, t) => { x[t * V + s] = Math.log(0.9); });
  return { logp: x, T: seq.length };
}

const ARPA = `
\\data\\
ngram 1=7
ngram 2=3

\\1-grams:
-1.0 <s> -0.5
-0.8 </s>
-1.0 to -0.3
-1.5 too -0.3
-1.8 two -0.3
-1.2 go -0.3
-1.5 cat -0.3

\\2-grams:
-0.1 go two
-2.0 go to
-0.1 two cat

\\end\\
`;

describe('pronunciations (phone models)', () => {
  const pron = new Pronunciations(new Map([['to', [['T', 'UW']]], ['too', [['T', 'UW']]], ['two', [['T', 'UW']]], ['go', [['G', 'OW']]], ['cat', [['K', 'AE', 'T']]]]));
  const lm = ArpaLm.parse(ARPA);

  it('loads a cmudict-style file (plain or gzipped) and checks its phones against the model', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pron-'));
    fs.writeFileSync(path.join(dir, 'd.txt.gz'), zlib.gzipSync(DICT));
    const p = Pronunciations.load(path.join(dir, 'd.txt.gz'), SYMBOLS);
    assert.equal(p.size, 6);
    assert.deepEqual(p.of('cat'), [['K', 'AE', 'T']]);
    fs.writeFileSync(path.join(dir, 'bad.txt'), 'cat K AE T\ndog D AO G\n');
    assert.throws(() => Pronunciations.load(path.join(dir, 'bad.txt'), SYMBOLS), /line 2: phone "D" is not one of the model's symbols/);
    assert.throws(() => Pronunciations.load(path.join(dir, 'none.txt')), /cannot read pronunciation dictionary \(ENOENT\)/);
    fs.rmSync(dir, { recursive: true });
  });

  it('turns transcripts into phone targets, and names a word it cannot', () => {
    const toLabels = labeler(SYMBOLS, pron);
    assert.deepEqual([...(toLabels('go to') as Int32Array)], [4, 5, 1, 2, 3]);
    assert.deepEqual(toLabels('go home'), { missing: 'home' });
  });

  it('decodes phones into words: the LM picks the homophone from its context', () => {
    const { logp, T } = say(['G', 'OW', ' ', 'T', 'UW']);
    const lexicon = pron.lexicon(lm);
    const h = ctcBeamSearch(logp, T, V, VOCAB, 0.04, { beam: 8, lm, lmWeight: 1, wordBonus: 0, lexicon });
    assert.equal(h.text, 'go two'); // "go two" is a bigram; alone, "to" is likelier
    assert.deepEqual(h.words.map((w) => w.word), ['go', 'two']);
    assert.ok(h.words[1].start > h.words[0].end - 1e-9);
    const alone = say(['T', 'UW']);
    assert.equal(ctcBeamSearch(alone.logp, alone.T, V, VOCAB, 0.04, { beam: 8, lm, lmWeight: 1, wordBonus: 0, lexicon }).text, 'to');
  });

  it('the words after a homophone can change it: the best hypothesis is re-spelled as a whole sentence', () => {
    // When "T UW" ends, after <s> "to" is likeliest (ln P = -1.5 x ln 10 against -2.3 for "two"), but "two cat" is a
    // bigram: over the sentence "two cat" wins (-2.4 against -3.3 before </s>).
    const { logp, T } = say(['T', 'UW', ' ', 'K', 'AE', 'T']);
    const lexicon = pron.lexicon(lm);
    const h = ctcBeamSearch(logp, T, V, VOCAB, 0.04, { beam: 8, lm, lmWeight: 1, wordBonus: 0, lexicon });
    assert.equal(h.text, 'two cat');
    assert.deepEqual(h.words.map((w) => w.word), ['two', 'cat']);
    // As a segment after "go", the history decides too ("go two" is a bigram), and without the LM the first spelling stays.
    assert.equal(ctcBeamSearch(logp, T, V, VOCAB, 0.04, { beam: 8, lm, lmWeight: 1, wordBonus: 0, lexicon, history: ['go'], sentenceEnd: false }).text, 'two cat');
    assert.equal(ctcBeamSearch(logp, T, V, VOCAB, 0.04, { beam: 8, lexicon: pron.lexicon() }).text, 'to cat');
  });

  it('only spells words of the lexicon; a hotword with phones is allowed and spelled as given', () => {
    const { logp, T } = say(['R', 'EH', 'D', ' ', 'K', 'AE', 'T']); // "red" is not in the lexicon (no D either)
    const lexicon = pron.lexicon(lm);
    const h = ctcBeamSearch(logp, T, V, VOCAB, 0.04, { beam: 8, lm, lmWeight: 1, wordBonus: 0, lexicon });
    assert.ok(!h.text.includes('red') && h.text.split(' ').every((w) => lexicon.size && ['to', 'too', 'two', 'go', 'cat'].includes(w)), h.text);
    const hot = new Pronunciations(new Map([['rat', [['R', 'AE', 'T']]], ['red', [['R', 'EH', 'T']]]])).hotword({ phrase: 'red', boost: 0.5 }, SYMBOLS);
    assert.deepEqual(hot.symbols, ['R', 'EH', 'T']);
    const sayRed = say(['R', 'EH', 'T', ' ', 'K', 'AE', 'T']);
    assert.equal(ctcBeamSearch(sayRed.logp, sayRed.T, V, VOCAB, 0.04, { beam: 8, lm, lmWeight: 1, wordBonus: 0, lexicon, hotwords: [hot] }).text, 'red cat');
    assert.throws(() => pron.hotword({ phrase: 'red cat', boost: 1 }, SYMBOLS), /no pronunciation for "red" \(not in the model's dictionary, and its letters cannot be guessed\); give its phones in the hotwords file/);
    // Phones given with the hotword (a word the dictionary lacks) are used as they are, if they are the model's.
    const given = { phrase: 'red cat', boost: 0.5, symbols: ['R', 'EH', 'T', ' ', 'K', 'AE', 'T'] };
    assert.deepEqual(pron.hotword(given, SYMBOLS), given);
    assert.equal(ctcBeamSearch(sayRed.logp, sayRed.T, V, VOCAB, 0.04, { beam: 8, lm, lmWeight: 1, wordBonus: 0, lexicon, hotwords: [given] }).text, 'red cat');
    assert.throws(() => pron.hotword({ ...given, symbols: ['R', 'EH', 'DX'] }, SYMBOLS), /phone "DX" is not one of the model's/);
  });

  it('a hotwords file may give phones between slashes, words separated by |', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hot-'));
    const f = path.join(dir, 'hot.txt');
    fs.writeFileSync(f, 'Auchtermuchty 2 /AA K T ER M AH K T IY/\nred cat /R EH T | K AE T/\nglasgow 1.5\n');
    assert.deepEqual(readHotwords(f), [
      { phrase: 'auchtermuchty', boost: 2, symbols: ['AA', 'K', 'T', 'ER', 'M', 'AH', 'K', 'T', 'IY'] },
      { phrase: 'red cat', boost: 1, symbols: ['R', 'EH', 'T', ' ', 'K', 'AE', 'T'] },
      { phrase: 'glasgow', boost: 1.5 },
    ]);
    fs.writeFileSync(f, 'red cat /R EH T K AE T/\n');
    assert.throws(() => readHotwords(f), /line 1: the pronunciation has 1 word\(s\) \('\|' between words\), the phrase 2/);
    fs.writeFileSync(f, 'red //\n');
    assert.throws(() => readHotwords(f), /line 1: empty pronunciation between the slashes/);
    fs.rmSync(dir, { recursive: true });
  });
});
