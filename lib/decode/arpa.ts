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

/**
 * The n-grams of one order above 1, in an open-addressing hash table over typed arrays: each slot
 * holds the n word ids (-1: empty), the log10 probability and the back-off weight. About 25 bytes
 * per n-gram, against about 350 for a Map from joined strings to pairs (measured: base-en-real's
 * 600k bigrams and trigrams took 214 MB that way).
 */
class NgramTable {
  keys: Int32Array;
  prob: Float64Array;
  bo: Float64Array;
  mask: number;
  size = 0;

  constructor(readonly n: number, expected: number, from?: SharedLmTable) {
    if (from) {
      this.keys = new Int32Array(from.keys);
      this.prob = new Float64Array(from.prob);
      this.bo = new Float64Array(from.bo);
      this.mask = from.mask;
      this.size = from.size;
      return;
    }
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.keys = new Int32Array(shareable(cap * n * 4)).fill(-1);
    this.prob = new Float64Array(shareable(cap * 8));
    this.bo = new Float64Array(shareable(cap * 8));
  }

  /** The slot of ids[at .. at + n), or of the empty slot where it would go (keys[slot * n] === -1). */
  slot(ids: ArrayLike<number>, at: number): number {
    const n = this.n, keys = this.keys;
    let h = 0x811c9dc5;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ ids[at + i], 0x9e3779b1) ^ (h >>> 15);
    for (let s = (h >>> 0) & this.mask; ; s = (s + 1) & this.mask) {
      const o = s * n;
      if (keys[o] === -1) return s;
      let same = true;
      for (let i = 0; i < n && same; i++) same = keys[o + i] === ids[at + i];
      if (same) return s;
    }
  }

  set(ids: ArrayLike<number>, lp: number, bo: number): void {
    if ((this.size + 1) * 10 > (this.mask + 1) * 7) this.grow();
    const s = this.slot(ids, 0), o = s * this.n;
    if (this.keys[o] === -1) {
      for (let i = 0; i < this.n; i++) this.keys[o + i] = ids[i];
      this.size++;
    }
    this.prob[s] = lp;
    this.bo[s] = bo;
  }

  /** Slot of the n-gram ids[at .. at + n), or -1. */
  find(ids: ArrayLike<number>, at: number): number {
    const s = this.slot(ids, at);
    return this.keys[s * this.n] === -1 ? -1 : s;
  }

  private grow(): void {
    const old = { keys: this.keys, prob: this.prob, bo: this.bo, cap: this.mask + 1 };
    const cap = old.cap * 2, n = this.n;
    this.mask = cap - 1;
    this.keys = new Int32Array(shareable(cap * n * 4)).fill(-1);
    this.prob = new Float64Array(shareable(cap * 8));
    this.bo = new Float64Array(shareable(cap * 8));
    this.size = 0;
    for (let s = 0; s < old.cap; s++) if (old.keys[s * n] !== -1) this.set(old.keys.subarray(s * n, s * n + n), old.prob[s], old.bo[s]);
  }
}

/** Memory other threads can read in place where the platform has it (Node; browsers only when cross-origin isolated). */
const shareable = (bytes: number): ArrayBufferLike => (typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));

/** One n-gram table as another thread receives it (see ArpaLm.share). */
interface SharedLmTable { keys: ArrayBufferLike; prob: ArrayBufferLike; bo: ArrayBufferLike; mask: number; size: number }

/** An LM as handed to another thread: its words and unigrams copied, its higher orders in shared memory where possible (see ArpaLm.share and ArpaLm.fromShared). */
export interface SharedLm { words: string[]; uni: ArrayBufferLike; uniBo: ArrayBufferLike; tables: SharedLmTable[]; unk: number }

/** A word n-gram LM read from an ARPA file (gzipped or not); scores are natural-log probabilities with back-off. */
export class ArpaLm {
  readonly order: number;
  /** Word ids: unigrams first, in file order (then any word seen only in a higher order). */
  private readonly ids: Map<string, number>;
  private readonly vocab: string[];
  /** Unigram log10 probability and back-off by word id (NaN: not a unigram). */
  private readonly uni: Float64Array;
  private readonly uniBo: Float64Array;
  /** tables[k - 1] holds the (k+1)-grams. */
  private readonly tables: NgramTable[];
  private readonly unk: number;
  private readonly cache = new Map<string, number>();
  private readonly query = new Int32Array(8);
  private lexiconTrie?: Lexicon;

  /** `ids`: the word ids of `vocab` when the caller has them (parse), else built here. */
  private constructor(vocab: string[], uni: Float64Array, uniBo: Float64Array, tables: NgramTable[], unkLog10: number, ids?: Map<string, number>) {
    this.vocab = vocab;
    this.ids = ids ?? new Map(vocab.map((w, i) => [w, i]));
    this.uni = uni;
    this.uniBo = uniBo;
    this.tables = tables;
    this.order = tables.length + 1;
    this.unk = unkLog10;
    if (this.order > this.query.length) this.query = new Int32Array(this.order);
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
    // The header from the lines before the first n-gram section; the n-grams by scanning the text line by
    // line (a split of the whole file would hold a string per line at once: tens of megabytes more at peak).
    const first = text.search(/^\\1-grams:/m);
    const { counts } = arpaHeader(text.slice(0, first < 0 ? text.length : first).split(/\r?\n/), file);
    const vocab: string[] = [], ids = new Map<string, number>();
    let uni = new Float64Array(Math.max(16, counts[0] ?? 0)).fill(NaN), uniBo = new Float64Array(uni.length);
    const idOf = (w: string): number => {
      let id = ids.get(w);
      if (id === undefined) {
        id = vocab.length;
        vocab.push(w);
        ids.set(w, id);
        if (id >= uni.length) {
          const u = new Float64Array(uni.length * 2).fill(NaN), b = new Float64Array(uni.length * 2);
          u.set(uni);
          b.set(uniBo);
          uni = u;
          uniBo = b;
        }
      }
      return id;
    };
    const tables = counts.slice(1).map((c, k) => new NgramTable(k + 2, c ?? 0));
    const key = new Int32Array(counts.length);
    let k = -1, unigrams = 0, lineNo = text.slice(0, Math.max(0, first)).split('\n').length - 1;
    for (let pos = Math.max(0, first); pos < text.length; lineNo++) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = text.length;
      const line = text.slice(pos, nl).trim();
      pos = nl + 1;
      if (!line) continue;
      if (line.charCodeAt(0) === 92) { // a backslash: a section
        const sec = /^\\(\d+)-grams:$/.exec(line);
        if (sec) { k = Number(sec[1]) - 1; continue; }
        if (line === '\\end\\') break;
      }
      if (k < 0) continue;
      const parts = line.split(/\s+/);
      const lp = Number(parts[0]);
      if (!Number.isFinite(lp) || parts.length < k + 2) throw new InputError(`line ${lineNo + 1}: malformed ${k + 1}-gram ${JSON.stringify(line.slice(0, 60))}`, file);
      const bo = parts.length > k + 2 ? Number(parts[k + 2]) : 0;
      if (k === 0) {
        const id = idOf(parts[1]);
        if (Number.isNaN(uni[id])) unigrams++;
        uni[id] = lp;
        uniBo[id] = bo;
        continue;
      }
      if (k > tables.length) throw new InputError(`line ${lineNo + 1}: ${k + 1}-grams that the \\data\\ section does not declare`, file);
      for (let j = 0; j <= k; j++) key[j] = idOf(parts[j + 1]);
      tables[k - 1].set(key, lp, bo);
    }
    if (unigrams === 0) throw new InputError('ARPA model has no unigrams', file);
    const u = new Float64Array(shareable(vocab.length * 8)), b = new Float64Array(shareable(vocab.length * 8));
    u.set(uni.subarray(0, vocab.length));
    b.set(uniBo.subarray(0, vocab.length));
    return new ArpaLm(vocab, u, b, tables, unkLog10, ids);
  }

  /**
   * This LM for another thread (postMessage): the n-gram tables are shared memory that thread reads in
   * place, so a decoding worker adds the vocabulary's few megabytes, not a second LM.
   */
  share(): SharedLm {
    return {
      words: this.vocab, uni: this.uni.buffer, uniBo: this.uniBo.buffer, unk: this.unk,
      tables: this.tables.map((t) => ({ keys: t.keys.buffer, prob: t.prob.buffer, bo: t.bo.buffer, mask: t.mask, size: t.size })),
    };
  }

  /** The LM another thread shared (see share()). */
  static fromShared(s: SharedLm): ArpaLm {
    return new ArpaLm(s.words, new Float64Array(s.uni), new Float64Array(s.uniBo), s.tables.map((t, k) => new NgramTable(k + 2, 0, t)), s.unk);
  }

  /** True when the word is in the vocabulary. */
  has(word: string): boolean {
    const id = this.ids.get(word);
    return id !== undefined && !Number.isNaN(this.uni[id]);
  }

  /** The vocabulary: every unigram except the sentence markers and <unk>. */
  *words(): IterableIterator<string> {
    for (let id = 0; id < this.vocab.length; id++) {
      const w = this.vocab[id];
      if (!Number.isNaN(this.uni[id]) && w !== '<s>' && w !== '</s>' && w !== '<unk>' && w !== '<UNK>') yield w;
    }
  }

  /** The vocabulary as a character trie for lexicon-constrained search, built on first use and shared. */
  lexicon(): Lexicon {
    return (this.lexiconTrie ??= new Lexicon(this.words()));
  }

  /** ln P(word) with no context: its unigram probability (or the <unk> cost); not cached. */
  unigram(word: string): number {
    const id = this.ids.get(word);
    const lp = id === undefined ? NaN : this.uni[id];
    return (Number.isNaN(lp) ? this.unk : lp) * LN10;
  }

  /** ln P(word | history), history = previous words (oldest first; '<s>' for sentence start). */
  logProb(history: readonly string[], word: string): number {
    const h = history.length > this.order - 1 ? history.slice(-(this.order - 1)) : history;
    const key = `${h.join(' ')}|${word}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    // q = the history's ids then the word's; an id of -1 (a word the LM never saw) matches no n-gram.
    const q = this.query, H = h.length;
    for (let i = 0; i < H; i++) q[i] = this.ids.get(h[i]) ?? -1;
    const wid = this.ids.get(word) ?? -1;
    q[H] = wid;
    let backoff = 0, result: number | undefined;
    for (let n = H; n >= 0; n--) {
      // The (n+1)-gram: the last n words of the history, then the word.
      if (n === 0) {
        const lp = wid < 0 ? NaN : this.uni[wid];
        if (!Number.isNaN(lp)) result = backoff + lp;
        break;
      }
      const at = H - n;
      let found = false;
      if (wid >= 0 && !q.subarray(at, H).includes(-1)) {
        const t = this.tables[n - 1], s = t?.find(q, at) ?? -1;
        if (s >= 0) { result = backoff + t.prob[s]; found = true; }
      }
      if (found) break;
      // Back-off weight of the context (the last n words of the history).
      if (n === 1) {
        const c = q[H - 1];
        if (c >= 0 && !Number.isNaN(this.uni[c])) backoff += this.uniBo[c];
      } else if (!q.subarray(at, H).includes(-1)) {
        const t = this.tables[n - 2], s = t?.find(q, at) ?? -1;
        if (s >= 0) backoff += t.bo[s];
      }
    }
    const ln = (result ?? backoff + this.unk) * LN10;
    if (this.cache.size > 200000) this.cache.clear();
    this.cache.set(key, ln);
    return ln;
  }
}
