/**
 * Word n-gram language models in ARPA format (as written by IRSTLM, KenLM, SRILM), plain or gzipped.
 * Scores are natural-log conditional probabilities with Katz-style back-off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { readMaybeGzipped } from '../io/text-file.js';
import { Lexicon } from './lexicon.js';

const LN10 = Math.LN10;

/**
 * The \data\ section of an ARPA model: how many n-grams of each order it declares (counts[k]: (k+1)-grams),
 * and the index of the first line after it. `lines` may be only the start of the file.
 */
export function arpaHeader(lines: string[], file = 'language model'): { counts: number[]; end: number } {
  let i = lines.findIndex((l) => l.trim() === '\\data\\');
  if (i < 0) throw new InputError('not an ARPA language model (no \\data\\ section)', file);
  const counts: number[] = [];
  for (i++; i < lines.length && !lines[i].startsWith('\\'); i++) {
    const m = /^ngram\s+(\d+)\s*=\s*(\d+)/.exec(lines[i].trim());
    if (m) counts[Number(m[1]) - 1] = Number(m[2]);
  }
  if (counts.length === 0) throw new InputError('ARPA model declares no n-grams', file);
  return { counts, end: i };
}

/** LMs loaded in this process, by path, size and modification time (see ArpaLm.load). */
const loaded = new Map<string, WeakRef<ArpaLm>>();

/** A word n-gram LM read from an ARPA file (gzipped or not); scores are natural-log probabilities with back-off. */
export class ArpaLm {
  readonly order: number;
  /** tables[k] maps "w1 w2 ... wk+1" to [logprob, backoff] (log10, as in the file). */
  private readonly tables: Map<string, [number, number]>[];
  private readonly unk: number;
  private readonly cache = new Map<string, number>();
  private lexiconTrie?: Lexicon;

  private constructor(tables: Map<string, [number, number]>[], unkLog10: number) {
    this.tables = tables;
    this.order = tables.length;
    this.unk = unkLog10;
  }

  /**
   * Load an .arpa or .arpa.gz file.
   * @param unkLog10 log10 probability of a word outside the LM's vocabulary (before back-off).
   *   Toolkits often give <unk> more mass than rare real words, which makes a CTC beam search
   *   invent words; the default -6 keeps new words possible but costly.
   */
  /**
   * Read an ARPA file (gzipped or not). An LM this process has loaded before and still holds is
   * returned again rather than parsed twice (keyed by path, size and modification time; held weakly,
   * so a model no one uses can still be freed): `train` judges its dev set and then scores the test
   * set with the same model, and a server may load several recognizers of one model.
   */
  static load(file: string, unkLog10 = -6): ArpaLm {
    let key: string | undefined;
    try {
      const st = fs.statSync(file);
      key = `${path.resolve(file)}\t${st.size}\t${st.mtimeMs}\t${unkLog10}`;
    } catch { /* readMaybeGzipped says what is wrong */ }
    const held = key === undefined ? undefined : loaded.get(key)?.deref();
    if (held) return held;
    const lm = ArpaLm.parse(readMaybeGzipped(file, 'language model'), file, unkLog10);
    if (key !== undefined) loaded.set(key, new WeakRef(lm));
    return lm;
  }

  static parse(text: string, file = 'language model', unkLog10 = -6): ArpaLm {
    const lines = text.split(/\r?\n/);
    const { counts, end } = arpaHeader(lines, file);
    let i = end;
    const tables = counts.map(() => new Map<string, [number, number]>());
    let k = -1;
    for (; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      const sec = /^\\(\d+)-grams:$/.exec(line);
      if (sec) { k = Number(sec[1]) - 1; continue; }
      if (line === '\\end\\') break;
      if (k < 0) continue;
      const parts = line.split(/\s+/);
      const lp = Number(parts[0]);
      const words = parts.slice(1, k + 2);
      const bo = parts.length > k + 2 ? Number(parts[k + 2]) : 0;
      if (!Number.isFinite(lp) || words.length !== k + 1) throw new InputError(`line ${i + 1}: malformed ${k + 1}-gram ${JSON.stringify(line.slice(0, 60))}`, file);
      tables[k].set(words.join(' '), [lp, bo]);
    }
    if (tables[0].size === 0) throw new InputError('ARPA model has no unigrams', file);
    return new ArpaLm(tables, unkLog10);
  }

  /** True when the word is in the vocabulary. */
  has(word: string): boolean {
    return this.tables[0].has(word);
  }

  /** The vocabulary: every unigram except the sentence markers and <unk>. */
  *words(): IterableIterator<string> {
    for (const w of this.tables[0].keys()) if (w !== '<s>' && w !== '</s>' && w !== '<unk>' && w !== '<UNK>') yield w;
  }

  /** The vocabulary as a character trie for lexicon-constrained search, built on first use and shared. */
  lexicon(): Lexicon {
    return (this.lexiconTrie ??= new Lexicon(this.words()));
  }

  /** ln P(word) with no context: its unigram probability (or the <unk> cost); not cached. */
  unigram(word: string): number {
    return (this.tables[0].get(word)?.[0] ?? this.unk) * LN10;
  }

  /** ln P(word | history), history = previous words (oldest first; '<s>' for sentence start). */
  logProb(history: readonly string[], word: string): number {
    const h = history.slice(-(this.order - 1));
    const key = `${h.join(' ')}|${word}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    let backoff = 0, result: number | undefined;
    for (let n = h.length; n >= 0; n--) {
      const ctx = h.slice(h.length - n);
      const entry = this.tables[n]?.get(n ? `${ctx.join(' ')} ${word}` : word);
      if (entry) { result = backoff + entry[0]; break; }
      if (n > 0) backoff += this.tables[n - 1].get(ctx.join(' '))?.[1] ?? 0;
    }
    const ln = (result ?? backoff + this.unk) * LN10;
    if (this.cache.size > 200000) this.cache.clear();
    this.cache.set(key, ln);
    return ln;
  }
}
