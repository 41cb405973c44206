import assert from 'node:assert/strict';
import { CHAR_VOCAB, normalizeText, numberToWords } from '../../lib/text/normalize.js';

describe('text/normalize', () => {
  const cases: [string, string][] = [
    ['The quick brown fox.', 'the quick brown fox'],
    ["Don't stop -- it's 'great', isn't it?", "don't stop it's great isn't it"],
    ['Dr. Smith met Mr. Jones, etc.', 'doctor smith met mister jones et cetera'],
    ['I have 2 apples and 21 pears.', 'i have two apples and twenty one pears'],
    ['In 1984 and 2005 and 1900 and 2024.', 'in nineteen eighty four and two thousand five and nineteen hundred and twenty twenty four'],
    ['It costs $3.50, or 1,250 dollars.', 'it costs three dollars fifty cents or one thousand two hundred fifty dollars'],
    ['She came 1st, he 22nd; 25% off.', 'she came first he twenty second twenty five percent off'],
    ['The 1990s were 3.14 times better.', 'the nineteen nineties were three point one four times better'],
    ['Café naïve résumé', 'cafe naive resume'],
    ['Well-oiled rock & roll', 'well oiled rock and roll'],
    ['  MIXED   Case\tand\nspaces ', 'mixed case and spaces'],
    ["the dogs' bones", 'the dogs bones'],
    ['', ''],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => assert.equal(normalizeText(input), want));
  }

  it('output uses only the label alphabet', () => {
    const s = normalizeText('Ünïcödé, “quotes”, 100% — 7/8 of #hashtags @home & more...');
    for (const ch of s) assert.ok(CHAR_VOCAB.includes(ch), JSON.stringify(ch));
  });

  it('spells numbers', () => {
    assert.equal(numberToWords(0), 'zero');
    assert.equal(numberToWords(115), 'one hundred fifteen');
    assert.equal(numberToWords(1000001), 'one million one');
    assert.equal(numberToWords(999999), 'nine hundred ninety nine thousand nine hundred ninety nine');
  });
});
