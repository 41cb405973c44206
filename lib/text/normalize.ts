/**
 * The one text normaliser, shared by training (the recipes write normalised labels with it) and
 * scoring: lower case; letters a-z, apostrophe and space only; numbers spelled out.
 *
 *   "Dr. Smith paid $3.50 for 2 apples -- 25% off!" -> "doctor smith paid three dollars fifty for two apples twenty five percent off"
 */

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES: [number, string][] = [[1e12, 'trillion'], [1e9, 'billion'], [1e6, 'million'], [1e3, 'thousand']];
const ORDINAL: Record<string, string> = { one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth' };

/** Cardinal number words for a non-negative integer below 10^15. */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 1e15) throw new RangeError(`cannot spell ${n}`);
  if (n < 20) return ONES[n];
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? ` ${ONES[n % 10]}` : '');
  if (n < 1000) return `${ONES[Math.floor(n / 100)]} hundred` + (n % 100 ? ` ${numberToWords(n % 100)}` : '');
  for (const [value, name] of SCALES) {
    if (n >= value) return `${numberToWords(Math.floor(n / value))} ${name}` + (n % value ? ` ${numberToWords(n % value)}` : '');
  }
  return '';
}

function ordinalWords(n: number): string {
  const words = numberToWords(n).split(' ');
  const last = words.pop()!;
  words.push(ORDINAL[last] ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`));
  return words.join(' ');
}

/** Years 1100-2099 read as pairs ("nineteen eighty four"), except round thousands and 2000-2009. */
function yearWords(n: number): string {
  if (n % 1000 === 0 || (n >= 2000 && n < 2010)) return numberToWords(n);
  const hi = Math.floor(n / 100), lo = n % 100;
  return `${numberToWords(hi)} ${lo === 0 ? 'hundred' : lo < 10 ? `oh ${ONES[lo]}` : numberToWords(lo)}`;
}

function digitsWords(s: string): string {
  return s.split('').map((d) => ONES[Number(d)]).join(' ');
}

/** Spell out one numeric token (already stripped of commas between digit groups). */
function spellNumber(tok: string, next: string | undefined): string {
  let m: RegExpExecArray | null;
  if ((m = /^(\d+)(st|nd|rd|th)$/.exec(tok))) return ordinalWords(Number(m[1]));
  if ((m = /^(\d+)\.(\d+)$/.exec(tok))) return `${spellInt(m[1], undefined)} point ${digitsWords(m[2])}`;
  if ((m = /^(\d+)s$/.exec(tok))) { // 1990s, 80s
    const w = spellInt(m[1], undefined).split(' ');
    const last = w.pop()!;
    w.push(last.endsWith('y') ? `${last.slice(0, -1)}ies` : last.endsWith('x') ? `${last}es` : `${last}s`);
    return w.join(' ');
  }
  if (/^\d+$/.test(tok)) return spellInt(tok, next);
  return tok.replace(/\d+/g, (d) => ` ${spellInt(d, undefined)} `);
}

function spellInt(digits: string, _next: string | undefined): string {
  if (digits.length > 1 && digits.startsWith('0')) return digitsWords(digits);
  if (digits.length > 15) return digitsWords(digits);
  const n = Number(digits);
  if (digits.length === 4 && n >= 1100 && n < 2100) return yearWords(n);
  return numberToWords(n);
}

/** Normalise text for training labels and scoring. */
export function normalizeText(text: string): string {
  let s = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''); // strip accents: cafe, naive
  s = s.replace(/[\u2018\u2019\u02bc`]/g, "'").replace(/[\u201c\u201d]/g, '"');
  // Digit groups with commas are amounts, never years: 1,250 -> one thousand two hundred fifty.
  s = s.replace(/\b\d{1,3}(?:,\d{3})+(?![\d.])/g, (m) => ` ${numberToWords(Number(m.replace(/,/g, '')))} `);
  s = s.replace(/\$(\d+)(?:\.(\d\d))?/g, (_, d: string, c?: string) => ` ${d} dollars${c && c !== '00' ? ` ${Number(c)} cents` : ''} `);
  s = s.replace(/£(\d+)/g, ' $1 pounds ').replace(/€(\d+)/g, ' $1 euros ');
  s = s.replace(/(\d)\s*%/g, '$1 percent ').replace(/&/g, ' and ').replace(/\+/g, ' plus ').replace(/@/g, ' at ');
  s = s.toLowerCase();
  s = s.replace(/\b(mr|mrs|dr|st|vs|etc)\./g, (_, a: string) => ({ mr: 'mister', mrs: 'missus', dr: 'doctor', st: 'saint', vs: 'versus', etc: 'et cetera' }[a] ?? a));
  const tokens = s.split(/[\s\-\u2013\u2014/]+/);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    let t = tokens[i].replace(/^[^a-z0-9']+|[^a-z0-9']+$/g, '');
    if (/\d/.test(t)) t = spellNumber(t.replace(/[^a-z0-9.]/g, ''), tokens[i + 1]);
    t = t.replace(/[^a-z' ]+/g, ' ');
    for (const w of t.split(' ')) {
      const word = w.replace(/^'+|'+$/g, '');
      if (word) out.push(word);
    }
  }
  return out.join(' ');
}

/** The label alphabet: blank, then space, apostrophe, a-z (29 symbols). */
export const CHAR_VOCAB: readonly string[] = Object.freeze(['<blank>', ' ', "'", ...'abcdefghijklmnopqrstuvwxyz'.split('')]);
