/**
 * Guessing a word's phones from its spelling, for words a phone model's pronunciation dictionary
 * lacks (rare derivations, names, a user's place names). Two guessers; pronunciations.ts tries
 * them in this order:
 *
 *  1. By parts (`guessByParts`): a dictionary word with English endings and prefixes
 *     ("violinist's", "saltiness", "imputable", "unquenchable") or two dictionary words run
 *     together ("sidecar", "headbutted") is said as its parts are.
 *  2. Letter to phone (`LetterToPhone`): each letter becomes no phone, one or two, chosen by its
 *     neighbours: the longest context (the letter, then one letter right, one left, two right, ...)
 *     seen in the dictionary decides. The rules are learned from the dictionary itself: an EM
 *     alignment of letters to phones, then a tree over contexts pruned to the nodes that change
 *     the prediction of their parent, saved as text (`g2p.txt.gz` beside the dictionary).
 *
 * A guess is a guess: used as training targets (CTC tolerates a wrong vowel better than losing the
 * utterance) and to let the decoder spell words it has never been given.
 */
import { InputError } from '../errors.js';
import { readMaybeGzipped } from '../io/text-file.js';

const EDGE = '#';
const NONE = '_';

export interface LetterToPhoneOptions {
  /** Letters of context on each side (default 4). */
  context?: number;
  /** A context seen fewer times than this is not a rule (default 1: on cmudict, held-out word accuracy 61.9% against 57.9% at 2). */
  minCount?: number;
  /** EM iterations of the letter-phone alignment (default 6). */
  iterations?: number;
}

export class LetterToPhone {
  /** Context key -> phones ([] = the letter is silent). */
  private readonly rules: Map<string, string[]>;
  readonly context: number;

  constructor(rules: Map<string, string[]>, context: number) {
    this.rules = rules;
    this.context = context;
  }

  get size(): number {
    return this.rules.size;
  }

  /** The phones of a lower-case word (letters and apostrophes). */
  guess(word: string): string[] {
    const out: string[] = [];
    const width = 1 + 2 * this.context;
    for (let i = 0; i < word.length; i++) {
      const key = contextKey(word, i, this.context);
      for (let d = width; d >= 1; d--) {
        const r = this.rules.get(d === width ? key : key.slice(0, d));
        if (r) { out.push(...r); break; }
      }
    }
    return out;
  }

  /** The rules as text: a header line, then `key phone...` (`_` for a silent letter), sorted. */
  serialize(): string {
    const lines = [...this.rules].map(([k, p]) => `${k} ${p.length ? p.join(' ') : NONE}`).sort();
    return `# adapt-asr letter-to-phone rules: context ${this.context}\n${lines.join('\n')}\n`;
  }

  static parse(text: string, file: string): LetterToPhone {
    const lines = text.split('\n');
    const m = /^# adapt-asr letter-to-phone rules: context (\d+)$/.exec(lines[0]?.trim() ?? '');
    if (!m) throw new InputError('not a letter-to-phone rules file (first line should be "# adapt-asr letter-to-phone rules: context N")', file);
    const context = Number(m[1]);
    const rules = new Map<string, string[]>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      const parts = line.split(' ');
      if (parts.length < 2 || parts[0].length > 1 + 2 * context) throw new InputError(`line ${i + 1}: expected "context phone..." with at most ${1 + 2 * context} context letters`, file);
      rules.set(parts[0], parts[1] === NONE ? [] : parts.slice(1));
    }
    if (rules.size === 0) throw new InputError('letter-to-phone rules file has no rules', file);
    return new LetterToPhone(rules, context);
  }

  static load(file: string): LetterToPhone {
    return LetterToPhone.parse(readMaybeGzipped(file, 'letter-to-phone rules'), file);
  }

  /** Learn rules from a dictionary's (word, phones) pairs; a word whose letters cannot carry its phones is left out. */
  static train(entries: ReadonlyArray<readonly [string, readonly string[]]>, options: LetterToPhoneOptions = {}): LetterToPhone {
    const context = options.context ?? 4;
    const minCount = options.minCount ?? 1;
    const aligned = alignLetters(entries, options.iterations ?? 6);
    // Every letter occurrence as (its context key, what it says), sorted by key: the context tree's
    // nodes are then runs of instances sharing a key prefix.
    const keys: string[] = [];
    const outs: string[] = [];
    for (const { word, says } of aligned) {
      for (let i = 0; i < word.length; i++) { keys.push(contextKey(word, i, context)); outs.push(says[i]); }
    }
    const order = Array.from(keys.keys()).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
    const rules = new Map<string, string[]>();
    const width = 1 + 2 * context;
    // A node (instances order[lo..hi) sharing `depth` key characters) becomes a rule when its most
    // common output differs from the one it inherits from its nearest ancestor rule (ties keep it).
    const grow = (lo: number, hi: number, depth: number, inherited: string | undefined): void => {
      const tally = new Map<string, number>();
      let best = inherited ?? '';
      let bestCount = -1;
      for (let k = lo; k < hi; k++) {
        const o = outs[order[k]];
        const c = (tally.get(o) ?? 0) + 1;
        tally.set(o, c);
      }
      for (const [o, c] of tally) if (c > bestCount || (c === bestCount && o === inherited)) { best = o; bestCount = c; }
      if (inherited === undefined || (best !== inherited && tally.get(inherited) !== bestCount)) {
        rules.set(keys[order[lo]].slice(0, depth), best ? best.split(' ') : []);
      } else best = inherited;
      if (depth === width || tally.size === 1) return;
      for (let a = lo; a < hi;) {
        const ch = keys[order[a]][depth];
        let b = a + 1;
        while (b < hi && keys[order[b]][depth] === ch) b++;
        if (b - a >= minCount) grow(a, b, depth + 1, best);
        a = b;
      }
    };
    for (let a = 0; a < order.length;) {
      const ch = keys[order[a]][0];
      let b = a + 1;
      while (b < order.length && keys[order[b]][0] === ch) b++;
      grow(a, b, 1, undefined);
      a = b;
    }
    return new LetterToPhone(rules, context);
  }
}

/** The letter at `i`, then its neighbours right 1, left 1, right 2, left 2, ... ('#' past the word's edges). */
function contextKey(word: string, i: number, context: number): string {
  let key = word[i];
  for (let k = 1; k <= context; k++) key += (word[i + k] ?? EDGE) + (i - k >= 0 ? word[i - k] : EDGE);
  return key;
}

/**
 * Align each word's letters to its phones: every letter says nothing, one phone or two (x -> K S),
 * in order. The probabilities P(phones | letter) are found by EM (forward-backward over the
 * letter x phone grid); each word's alignment is then the most probable path. Returns, per word,
 * what each letter says as space-joined phones ('' for silent).
 */
export function alignLetters(entries: ReadonlyArray<readonly [string, readonly string[]]>, iterations: number): Array<{ word: string; says: string[] }> {
  const letterIds = new Map<string, number>();
  const phoneIds = new Map<string, number>();
  const words: Array<{ word: string; letters: Int32Array; phones: Int32Array }> = [];
  for (const [word, phones] of entries) {
    if (phones.length > 2 * word.length || phones.length === 0) continue;
    const letters = Int32Array.from(word, (c) => letterIds.get(c) ?? (letterIds.set(c, letterIds.size), letterIds.size - 1));
    const ph = Int32Array.from(phones, (p) => phoneIds.get(p) ?? (phoneIds.set(p, phoneIds.size), phoneIds.size - 1));
    words.push({ word, letters, phones: ph });
  }
  const P = phoneIds.size;
  const nOut = 1 + P + P * P; // silent, one phone, two phones
  const L = letterIds.size;
  const prob = new Float64Array(L * nOut);
  for (let l = 0; l < L; l++) {
    prob[l * nOut] = 0.2;
    for (let o = 1; o <= P; o++) prob[l * nOut + o] = 0.7 / P;
    for (let o = P + 1; o < nOut; o++) prob[l * nOut + o] = 0.1 / (P * P);
  }
  let maxCells = 0;
  for (const w of words) maxCells = Math.max(maxCells, (w.letters.length + 1) * (w.phones.length + 1));
  const alpha = new Float64Array(maxCells);
  const beta = new Float64Array(maxCells);
  const counts = new Float64Array(L * nOut);
  for (let it = 0; it < iterations; it++) {
    counts.fill(0);
    for (const { letters, phones } of words) {
      const n = letters.length;
      const m = phones.length;
      const W = m + 1;
      alpha.fill(0, 0, (n + 1) * W);
      beta.fill(0, 0, (n + 1) * W);
      alpha[0] = 1;
      for (let i = 0; i < n; i++) {
        const base = letters[i] * nOut;
        for (let j = 0; j <= m; j++) {
          const a = alpha[i * W + j];
          if (a === 0) continue;
          alpha[(i + 1) * W + j] += a * prob[base];
          if (j < m) alpha[(i + 1) * W + j + 1] += a * prob[base + 1 + phones[j]];
          if (j + 1 < m) alpha[(i + 1) * W + j + 2] += a * prob[base + 1 + P + phones[j] * P + phones[j + 1]];
        }
      }
      const z = alpha[n * W + m];
      if (!(z > 0)) continue;
      beta[n * W + m] = 1;
      for (let i = n - 1; i >= 0; i--) {
        const base = letters[i] * nOut;
        for (let j = 0; j <= m; j++) {
          let b = beta[(i + 1) * W + j] * prob[base];
          if (j < m) b += beta[(i + 1) * W + j + 1] * prob[base + 1 + phones[j]];
          if (j + 1 < m) b += beta[(i + 1) * W + j + 2] * prob[base + 1 + P + phones[j] * P + phones[j + 1]];
          beta[i * W + j] = b;
        }
      }
      for (let i = 0; i < n; i++) {
        const base = letters[i] * nOut;
        for (let j = 0; j <= m; j++) {
          const a = alpha[i * W + j] / z;
          if (a === 0) continue;
          counts[base] += a * prob[base] * beta[(i + 1) * W + j];
          if (j < m) counts[base + 1 + phones[j]] += a * prob[base + 1 + phones[j]] * beta[(i + 1) * W + j + 1];
          if (j + 1 < m) {
            const o = base + 1 + P + phones[j] * P + phones[j + 1];
            counts[o] += a * prob[o] * beta[(i + 1) * W + j + 2];
          }
        }
      }
    }
    for (let l = 0; l < L; l++) {
      let sum = 0;
      for (let o = 0; o < nOut; o++) sum += counts[l * nOut + o] + 1e-6;
      for (let o = 0; o < nOut; o++) prob[l * nOut + o] = (counts[l * nOut + o] + 1e-6) / sum;
    }
  }
  // Most probable alignment of each word.
  const phoneNames = [...phoneIds.keys()];
  const logp = prob.map(Math.log);
  const score = new Float64Array(maxCells);
  const from = new Int8Array(maxCells); // phones said by the letter that led here: 0, 1, 2
  const out: Array<{ word: string; says: string[] }> = [];
  for (const { word, letters, phones } of words) {
    const n = letters.length;
    const m = phones.length;
    const W = m + 1;
    score.fill(-Infinity, 0, (n + 1) * W);
    score[0] = 0;
    for (let i = 0; i < n; i++) {
      const base = letters[i] * nOut;
      for (let j = 0; j <= m; j++) {
        const s = score[i * W + j];
        if (s === -Infinity) continue;
        const relax = (cell: number, v: number, k: number): void => { if (v > score[cell]) { score[cell] = v; from[cell] = k; } };
        relax((i + 1) * W + j, s + logp[base], 0);
        if (j < m) relax((i + 1) * W + j + 1, s + logp[base + 1 + phones[j]], 1);
        if (j + 1 < m) relax((i + 1) * W + j + 2, s + logp[base + 1 + P + phones[j] * P + phones[j + 1]], 2);
      }
    }
    if (score[n * W + m] === -Infinity) continue;
    const says = new Array<string>(n);
    for (let i = n, j = m; i > 0; i--) {
      const k = from[i * W + j];
      says[i - 1] = Array.from(phones.subarray(j - k, j), (p) => phoneNames[p]).join(' ');
      j -= k;
    }
    out.push({ word, says });
  }
  return out;
}

// ---- By parts ----

const VOICELESS = new Set(['P', 'T', 'K', 'F', 'TH']);
const VOWELS = new Set(['AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'EH', 'ER', 'EY', 'IH', 'IY', 'OW', 'OY', 'UH', 'UW']);
const SIBILANT = new Set(['S', 'Z', 'SH', 'ZH', 'CH', 'JH']);

/** An ending's phones after a stem ending in `last` (the -s and -ed endings agree with it). */
type Ending = (last: string) => string[];
const plural: Ending = (last) => (SIBILANT.has(last) ? ['IH', 'Z'] : VOICELESS.has(last) ? ['S'] : ['Z']);
const past: Ending = (last) => (last === 'T' || last === 'D' ? ['IH', 'D'] : VOICELESS.has(last) || (SIBILANT.has(last) && last !== 'Z' && last !== 'ZH' && last !== 'JH') ? ['T'] : ['D']);
const fixed = (s: string): Ending => () => (s ? s.split(' ') : []);

/** Endings (longest first), how a stem is spelled before them, and their phones. */
const ENDINGS: ReadonlyArray<readonly [string, Ending]> = [
  ['ments', fixed('M AH N T S')], ['ment', fixed('M AH N T')], ['ness', fixed('N AH S')], ['less', fixed('L AH S')],
  ['able', fixed('AH B AH L')], ['ably', fixed('AH B L IY')], ['ists', fixed('IH S T S')], ['ist', fixed('IH S T')],
  ['ism', fixed('IH Z AH M')], ['ing', fixed('IH NG')], ['ful', fixed('F AH L')], ['ers', fixed('ER Z')], ['est', fixed('AH S T')],
  ['ly', fixed('L IY')], ['er', fixed('ER')], ['ed', past], ['es', plural], ["'s", plural], ['s', plural], ['y', fixed('IY')], ["'", fixed('')],
];
const PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['un', 'AH N'], ['re', 'R IY'], ['dis', 'D IH S'], ['mis', 'M IH S'], ['non', 'N AA N'], ['pre', 'P R IY'], ['in', 'IH N'], ['im', 'IH M'],
];

/** How a stem may be spelled before an ending: as is, with its final e dropped, y turned to i, or a doubled last consonant. */
function stemSpellings(before: string, ending: string): string[] {
  const out = [before];
  if (ending === 'y' && /[aeiouy]$/.test(before)) return [];
  if (/^[aeiouy]/.test(ending)) {
    out.push(`${before}e`);
    if (before.length >= 3 && before.at(-1) === before.at(-2) && !/[aeiou]/.test(before.at(-1)!)) out.push(before.slice(0, -1));
  }
  if (before.endsWith('i') && ending !== 'ing') out.push(`${before.slice(0, -1)}y`);
  return out;
}

/**
 * The phones of a word made of dictionary parts, or undefined. Tries, in order: the word with one
 * ending (recursively: "violinist's" = violin + ist + 's), a prefix on a dictionary word, two
 * dictionary words of at least 3 letters each (the split with the longer first word wins).
 */
/**
 * Shortest dictionary part, in letters: cmudict's short entries are often acronyms or names
 * ("aboard" = "abo" + "ard"). With 3-letter stems, or compounds of 4-letter words, guessing by
 * parts lost to the letter rules on held-out cmudict words.
 */
const MIN_PART = 4;
const MIN_COMPOUND_PART = 5;

export function guessByParts(word: string, lookup: (w: string) => readonly string[] | undefined, depth = 0): string[] | undefined {
  const known = lookup(word);
  if (known) return [...known];
  if (depth >= 3 || word.length < MIN_PART + 1) return undefined;
  for (const [ending, say] of ENDINGS) {
    if (!word.endsWith(ending) || word.length - ending.length < MIN_PART - 1) continue;
    for (const stem of stemSpellings(word.slice(0, -ending.length), ending)) {
      if (stem.length < MIN_PART) continue;
      const p = guessByParts(stem, lookup, depth + 1);
      if (p && p.length) {
        const end = say(p[p.length - 1]);
        return [...p, ...(end[0] === p[p.length - 1] && !VOWELS.has(end[0]) ? end.slice(1) : end)];
      }
    }
  }
  for (const [prefix, say] of PREFIXES) {
    if (!word.startsWith(prefix) || word.length - prefix.length < MIN_PART) continue;
    const p = lookup(word.slice(prefix.length));
    if (p) return [...say.split(' '), ...p];
  }
  for (let cut = word.length - MIN_COMPOUND_PART; cut >= MIN_COMPOUND_PART; cut--) {
    const a = lookup(word.slice(0, cut));
    if (!a) continue;
    const b = guessByParts(word.slice(cut), lookup, depth + 1);
    if (b) return [...a, ...b];
  }
  return undefined;
}
