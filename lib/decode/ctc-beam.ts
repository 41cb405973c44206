/**
 * CTC prefix beam search with optional shallow fusion of a word n-gram LM and hotword boosting.
 *
 * Each hypothesis is a node in a prefix trie with p_b / p_nb (log probability of the prefix ending
 * in blank / non-blank). Its score adds lmWeight * ln P_LM of every completed word, wordBonus per
 * word, and hotword bonuses. Words end at a space symbol; the final partial word and </s> are
 * scored at the end. With a lexicon, a prefix that leaves it (spells no word's beginning, or ends a
 * word that is not one) is dropped the moment it does, or charged `oovPenalty` once, so pruning spends the
 * beam on real words; hotwords are exempt. Symbols are pruned per frame to the `maxSymbols` likeliest within `pruneLogp`
 * of the best. Prefixes are parent-pointer trie nodes, so extending one costs O(1) whatever its length.
 * Word timings of the result come from forced alignment (ctc-align.ts).
 *
 * A blank penalty (nats off the blank's log-probability in every frame) lets an unsure model keep sounds it
 * half blanks out; base-en tunes it with the LM weight and word bonus.
 *
 * LM look-ahead (with an LM and a lexicon): a word being spelled is charged, in advance, the best
 * unigram LM score of the words its prefix can still become (Lexicon.lookAhead), and the advance
 * is replaced by the real LM score when the word ends. Without it a hypothesis in mid-word pays no
 * LM cost while one that has just finished a word has paid it, and pruning favours the former; with
 * it, prefixes of unlikely words fall out of the beam early, where the lexicon tree branches.
 *
 * Phone models: with a pronounced lexicon (pronunciations.ts) the symbols are phones and a word is
 * the phone string between separators; when it ends, the homophone the LM likes best in this
 * context is its spelling (one choice per prefix, as a Viterbi approximation), and when the search ends the best
 * hypothesis's homophones are chosen again over the whole sentence (respell()). Such a lexicon is
 * always strict (there is no spelling for a phone string outside it) except for hotwords, whose
 * phones come with `Hotword.symbols`.
 */
import { kthLargest } from '../math/select.js';
import type { ArpaLm } from './arpa.js';
import { ctcAlign } from './ctc-align.js';
import { wordsFromEmissions } from './ctc-greedy.js';
import type { Hypothesis, Vocabulary } from './types.js';
import type { Lexicon, LexNode } from './lexicon.js';
import { hotwordTrie, type TrieNode } from './hotword-trie.js';
import { respell, type Said } from './respell.js';

export interface BeamOptions {
  /** Hypotheses kept per frame (default 8). */
  beam?: number;
  lm?: ArpaLm;
  /** Weight of the LM log-probability (default 0.5). */
  lmWeight?: number;
  /** Added per word, balancing the LM's preference for fewer words (default 1.0 with an LM, else 0). */
  wordBonus?: number;
  /** Phrases to favour, with their boost per character in nats. */
  hotwords?: Hotword[];
  /** Symbols more than this below the frame's best are skipped (default 10, in nats). */
  pruneLogp?: number;
  /** At most this many non-blank symbols are tried per frame, the likeliest (default max(beam, 8)). */
  maxSymbols?: number;
  /** Words before this stretch of audio (LM context when a long recording is decoded in segments). */
  history?: readonly string[];
  /** Score the end of the sentence with the LM (default true; false for all but a recording's last segment). */
  sentenceEnd?: boolean;
  /** Words the search may spell (usually the LM's vocabulary); words of `hotwords` are always allowed. */
  lexicon?: Lexicon;
  /**
   * Nats charged, once per word, the moment a hypothesis spells outside `lexicon` (default Infinity: it
   * may not). A finite value lets new words through at a price that pruning sees early.
   */
  oovPenalty?: number;
  /** Unigram LM look-ahead in the lexicon (default true; needs `lm` and `lexicon`). */
  lookAhead?: boolean;
  /**
   * Nats taken from the blank's log-probability in every frame (default 0). A CTC model that is unsure (real
   * speech, for a model trained mostly on TTS) tends to blank out phones; a small penalty lets the search keep them.
   */
  blankPenalty?: number;
  /** Phone models with an LM: re-choose the best hypothesis's homophones over the whole sentence (default true). */
  respell?: boolean;
}

export interface Hotword {
  phrase: string;
  /** Bonus per output symbol (character, or phone), in nats. */
  boost: number;
  /** The phrase as output symbols, words separated by ' ' (phone models); default its characters. */
  symbols?: readonly string[];
}

/** Used when neither the caller nor model.json's `decoding` sets them (base-en tunes its own: recipes/base-en/tune-decoding.ts). */
export const DEFAULT_LM_WEIGHT = 0.5;
export const DEFAULT_WORD_BONUS = 1.0;

/**
 * The LM weight and word bonus to decode with, from tuned settings (model.json `decoding`, or an adapter's own):
 * with the LM, the tuned weight and bonus (else the defaults); without it, the bonus tuned without the LM (else 0).
 * A bonus tuned against LM costs is the wrong one for acoustic scores alone.
 */
export function tunedDecoding(tuned: { lmWeight?: number; wordBonus?: number; noLmWordBonus?: number }, withLm: boolean): { lmWeight: number; wordBonus: number } {
  return withLm
    ? { lmWeight: tuned.lmWeight ?? DEFAULT_LM_WEIGHT, wordBonus: tuned.wordBonus ?? DEFAULT_WORD_BONUS }
    : { lmWeight: 0, wordBonus: tuned.noLmWordBonus ?? 0 };
}

/**
 * How a decoding is named in logs, reports and adapter.json: "greedy", "beam 16 + LM + lexicon".
 * `lexicon`: one limits the words (the LM's), or 'dictionary' (a phone model spelling any word it has a pronunciation for).
 */
export function decodingName(beam: number, lm: boolean, lexicon: boolean | 'dictionary'): string {
  return beam === 1 && !lm && !lexicon ? 'greedy' : `beam ${beam}${lm ? ' + LM' : ''}${lexicon === 'dictionary' ? ' + dictionary' : lexicon ? ' + lexicon' : ''}`;
}

/** The unigram look-ahead table of a lexicon under an LM (computed once, about half a second for cmudict; then cached). */
export function unigramLookAhead(lexicon: Lexicon, lm: ArpaLm): Float32Array {
  return lexicon.lookAhead(lm, (w) => lm.unigram(w));
}

/** A word a hypothesis has just finished: its spelling, its LM score and bonus, and its homophones (phone models). */
interface FinishedWord { word: string; score: number; homophones: readonly string[] | null }

/** A prefix in the search: a node of a parent-pointer trie (no copying of symbol arrays). */
interface Prefix { id: number; parent: Prefix | null; sym: number }

interface Beam {
  prefix: Prefix;
  pb: number;
  pnb: number;
  /** total() when this frame's beams were ranked. */
  score: number;
  /** LM + word bonus + committed hotword bonus so far. */
  extra: number;
  /** The last few completed words (the LM history) and the word being spelled. */
  words: string[];
  partial: string;
  hot: TrieNode | null;
  /** Hotword bonus given for the current match, taken back if it does not complete. */
  pending: number;
  /** Where the word being spelled is in the lexicon; null once it left it. */
  lex: LexNode | null;
  /** The word being spelled has paid the out-of-lexicon penalty. */
  oov: boolean;
  /** Phone models: every word so far, as spelled. */
  said: Said | null;
  /** LM look-ahead charged in `extra` for the word being spelled (replaced by its real LM score at its end). */
  ahead: number;
}

/** Completed words kept as LM history (enough for a 5-gram). */
const HISTORY = 4;

const lse = (a: number, b: number): number => (a === -Infinity ? b : b === -Infinity ? a : a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b)));
// Pending hotword bonus counts while the match lasts, so the hypothesis survives pruning.
const total = (b: Beam): number => lse(b.pb, b.pnb) + b.extra + b.pending;

export function ctcBeamSearch(logp: Float32Array, T: number, V: number, vocab: Vocabulary, frameShift: number, options: BeamOptions = {}): Hypothesis {
  logp = foldSilent(logp, T, V, vocab);
  const beamSize = options.beam ?? 8;
  const maxSymbols = options.maxSymbols ?? Math.max(beamSize, 8);
  const lm = options.lm;
  const lmWeight = lm ? options.lmWeight ?? DEFAULT_LM_WEIGHT : 0;
  const wordBonus = options.wordBonus ?? (lm ? DEFAULT_WORD_BONUS : 0);
  const prune = options.pruneLogp ?? 10;
  const blankPenalty = options.blankPenalty ?? 0;
  const trie = options.hotwords?.length ? hotwordTrie(options.hotwords) : null;
  const space = vocab.symbols.indexOf(' ');
  const blank = vocab.blank;
  const lexRoot = options.lexicon?.root ?? null;
  const pronounced = options.lexicon?.pronounced ?? false;
  const oovPenalty = pronounced ? Infinity : options.oovPenalty ?? Infinity;
  if (!(oovPenalty >= 0)) throw new RangeError(`oovPenalty must be >= 0, got ${oovPenalty}`);
  const ahead = lm && options.lexicon && options.lookAhead !== false && lmWeight > 0 ? unigramLookAhead(options.lexicon, lm) : null;
  /** The look-ahead charge at a lexicon node (0 without look-ahead, or outside the lexicon: the last charge stays). */
  const aheadAt = (node: LexNode | null, last: number): number => (ahead && node ? lmWeight * ahead[node.id] : ahead ? last : 0);

  const wordScore = (history: string[], word: string): number => (lm ? lmWeight * lm.logProb(history.length ? history : ['<s>'], word) : 0) + wordBonus;
  /** The word a hypothesis has just finished, and its score: its spelling, or for phones the likeliest homophone (or hotword). */
  const finishWord = (b: Beam): { word: string; score: number; homophones: readonly string[] | null } => {
    if (!pronounced) return { word: b.partial, score: wordScore(b.words, b.partial), homophones: null };
    let word = '', score = -Infinity;
    const consider = (w: string | undefined): void => {
      const s = w ? wordScore(b.words, w) : -Infinity;
      if (s > score) { word = w!; score = s; }
    };
    const spellings = b.lex?.end ? b.lex.words ?? [] : [];
    for (const w of spellings) consider(w);
    if (b.hot?.end || b.hot?.next.has(' ')) consider(b.hot.spell);
    // None: the last word was cut off mid-pronunciation (a last resort, already penalised); it is dropped.
    if (!word) return { word: '', score: 0, homophones: null };
    // A hotword keeps its spelling (its bonus came with it); a dictionary word may be re-spelled at the end.
    const homophones = spellings.length > 1 && spellings.includes(word) ? spellings : null;
    return { word, score, homophones };
  };

  let nextId = 0;
  const root: Prefix = { id: nextId++, parent: null, sym: -1 };
  const ahead0 = aheadAt(lexRoot, 0);
  let beams: Beam[] = [{ prefix: root, pb: 0, pnb: -Infinity, score: 0, extra: ahead0, words: (options.history ?? []).slice(-HISTORY), partial: '', hot: trie, pending: 0, lex: lexRoot, oov: false, said: null, ahead: ahead0 }];
  const cand = new Int32Array(V);
  const next = new Map<number, Beam>(); // prefix id -> beam of this frame (the live beams' prefixes)
  const known = new Map<number, Prefix>(); // parent id * V + symbol -> prefix of a live beam
  // A new prefix (a live beam plus one symbol) is reached from that beam only, so it stays a row of plain
  // arrays until ranking: most are pruned at once, and only the beamSize kept become objects. (Objects for
  // every one were most of the search's time: an allocation of a beam, its prefix and their numbers each.)
  const cap = beamSize * Math.min(maxSymbols, V) + 1;
  const xBeam = new Int32Array(cap), xSym = new Int32Array(cap), xOov = new Uint8Array(cap);
  const xPnb = new Float64Array(cap), xExtra = new Float64Array(cap), xPending = new Float64Array(cap), xAhead = new Float64Array(cap);
  const xHot: (TrieNode | null)[] = new Array(cap).fill(null), xLex: (LexNode | null)[] = new Array(cap).fill(null);
  const xDone: (FinishedWord | null)[] = new Array(cap).fill(null);
  // This frame's candidates in the order they arose (ties in score keep it): objects (-1 - index into
  // `objs`) and rows (their index), with their scores.
  const objs: Beam[] = [];
  // (At most a same-prefix beam and one arrival per live beam as objects, and cap - 1 rows.)
  const ord = new Int32Array(cap + 2 * beamSize), ordScore = new Float64Array(ord.length);
  const rank: number[] = [];
  const scratch = new Float64Array(ord.length);
  let nOrd = 0;
  /** A beam object of this frame, keyed by its prefix, in arrival order. */
  const addObj = (b: Beam): void => { next.set(b.prefix.id, b); objs.push(b); ord[nOrd++] = -objs.length; };

  for (let t = 0; t < T; t++) {
    const o = t * V;
    // Candidate symbols: within `prune` of the best, at most `maxSymbols` of them.
    let best = -Infinity;
    for (let v = 0; v < V; v++) if (logp[o + v] > best) best = logp[o + v];
    let nc = 0;
    for (let v = 0; v < V; v++) if (v !== blank && logp[o + v] >= best - prune) cand[nc++] = v;
    if (nc > maxSymbols) {
      const top = Array.from(cand.subarray(0, nc)).sort((a, b) => logp[o + b] - logp[o + a]);
      for (let i = 0; i < maxSymbols; i++) cand[i] = top[i];
      nc = maxSymbols;
    }
    next.clear();
    known.clear();
    objs.length = 0;
    nOrd = 0;
    let nx = 0;
    for (const b of beams) if (b.prefix.parent) known.set(b.prefix.parent.id * V + b.prefix.sym, b.prefix);
    for (let bi = 0; bi < beams.length; bi++) {
      const b = beams[bi];
      const pAll = lse(b.pb, b.pnb);
      // Blank: same prefix, now ending in blank.
      let same = next.get(b.prefix.id);
      if (!same) {
        // (Fields listed, not spread: this runs for every beam in every frame, and a spread copy is several times slower.)
        same = { prefix: b.prefix, pb: -Infinity, pnb: -Infinity, score: b.score, extra: b.extra, words: b.words, partial: b.partial, hot: b.hot, pending: b.pending, lex: b.lex, oov: b.oov, said: b.said, ahead: b.ahead };
        addObj(same);
      }
      same.pb = lse(same.pb, pAll + logp[o + blank] - blankPenalty);
      const last = b.prefix.sym;
      for (let i = 0; i < nc; i++) {
        const c = cand[i];
        const p = logp[o + c];
        if (c === last) {
          // Repeat without a blank in between: still the same prefix.
          same.pnb = lse(same.pnb, b.pnb + p);
        }
        const from = c === last ? b.pb : pAll;
        if (from === -Infinity) continue;
        if (c === space && (b.prefix === root || last === space)) {
          // Leading or doubled space: no new symbol.
          same.pnb = lse(same.pnb, from + p);
          continue;
        }
        const prefix = known.get(b.prefix.id * V + c);
        if (prefix) {
          // The prefix of another live beam: its beam of this frame (made here if that beam comes later).
          let ext = next.get(prefix.id);
          if (!ext) {
            step(b, c, 0);
            ext = materialize(0, b, prefix, -Infinity);
            addObj(ext);
          }
          ext.pnb = lse(ext.pnb, from + p);
          continue;
        }
        if (lexRoot && oovPenalty === Infinity && leavesLexicon(b, c)) continue;
        const x = ++nx; // (row 0 is scratch)
        xBeam[x] = bi;
        xSym[x] = c;
        xPnb[x] = from + p;
        step(b, c, x);
        ord[nOrd++] = x;
      }
    }
    // Keep the best beams (each scored once, not at every comparison; equal scores in the order they arose).
    for (let k = 0; k < nOrd; k++) {
      const r = ord[k];
      if (r < 0) { const b = objs[-1 - r]; ordScore[k] = b.score = total(b); } else ordScore[k] = lse(-Infinity, xPnb[r]) + xExtra[r] + xPending[r];
    }
    // The beamSize best, as a stable sort would order them: all above the beamSize-th best score, then the
    // earliest of those equal to it; only those are sorted.
    rank.length = 0;
    if (nOrd <= beamSize) for (let k = 0; k < nOrd; k++) rank.push(k);
    else {
      const cut = kthLargest(ordScore, nOrd, beamSize, scratch);
      let equal = beamSize;
      for (let k = 0; k < nOrd; k++) if (ordScore[k] > cut) equal--;
      for (let k = 0; k < nOrd; k++) {
        if (ordScore[k] > cut) rank.push(k);
        else if (ordScore[k] === cut && equal > 0) { rank.push(k); equal--; }
      }
    }
    rank.sort((a, b2) => ordScore[b2] - ordScore[a] || a - b2);
    const kept: Beam[] = [];
    for (let k = 0; k < rank.length; k++) {
      const r = ord[rank[k]];
      if (r < 0) { kept.push(objs[-1 - r]); continue; }
      const parent = beams[xBeam[r]];
      const b = materialize(r, parent, { id: nextId++, parent: parent.prefix, sym: xSym[r] }, xPnb[r]);
      b.score = ordScore[rank[k]];
      kept.push(b);
    }
    beams = kept;
  }

  /** A hotword being matched (or starting) may spell outside the lexicon. */
  function inHotword(b: Beam, ch: string): boolean {
    return (b.hot !== null && b.hot !== trie && b.hot.next.has(ch)) || (b.partial === '' && trie !== null && trie.next.has(ch));
  }

  /** Would appending symbol c take the word being spelled out of the lexicon (for the first time)? */
  function leavesLexicon(b: Beam, c: number): boolean {
    if (b.oov) return false;
    const ch = vocab.symbols[c];
    if (c === space) return !b.lex?.end && !(b.hot && (b.hot.end || b.hot.next.has(' ')));
    return !b.lex?.next.has(ch) && !inHotword(b, ch);
  }

  /**
   * What symbol c does to beam b, into row x of the candidate table: everything a beam holds but its
   * word history, partial word and spelled words, which materialize() derives when the row is kept.
   */
  function step(b: Beam, c: number, x: number): void {
    const ch = vocab.symbols[c];
    let { extra, pending, hot, lex, oov, ahead } = b;
    let done: FinishedWord | null = null;
    // (A strict lexicon never creates such a prefix: the caller skipped it.)
    if (lexRoot && oovPenalty !== Infinity && leavesLexicon(b, c)) { extra -= oovPenalty; oov = true; }
    if (c === space) {
      done = finishWord(b);
      lex = lexRoot;
      oov = false;
      extra += done.score - ahead;
      ahead = aheadAt(lex, 0);
      extra += ahead;
      if (trie) {
        // A hotword ending with this word keeps its bonus; a phrase may go on to its next word.
        if (hot?.end) { extra += pending; pending = 0; }
        const sp = hot?.next.get(' ');
        if (sp) { hot = sp; pending += sp.boost; } else { hot = trie; pending = 0; }
      }
    } else {
      const wordStart = b.partial === '';
      lex = lex?.next.get(ch) ?? null;
      const charge = aheadAt(lex, ahead);
      extra += charge - ahead;
      ahead = charge;
      if (trie) {
        let nx = hot?.next.get(ch);
        if (!nx && wordStart && hot !== trie) { pending = 0; nx = trie.next.get(ch); }
        if (nx) { hot = nx; pending += nx.boost; } else { hot = null; pending = 0; } // broke off: bonus taken back
      }
    }
    xExtra[x] = extra;
    xPending[x] = pending;
    xHot[x] = hot;
    xLex[x] = lex;
    xOov[x] = oov ? 1 : 0;
    xAhead[x] = ahead;
    xDone[x] = done;
  }

  /** The beam of row x (b stepped by symbol prefix.sym, see step()), with probability pnb of ending in that symbol. */
  function materialize(x: number, b: Beam, prefix: Prefix, pnb: number): Beam {
    const done = xDone[x];
    let words = b.words, partial = b.partial, said = b.said;
    if (done) {
      words = words.length < HISTORY ? [...words, done.word] : [...words.slice(1 - HISTORY), done.word];
      if (pronounced) said = { word: done.word, homophones: done.homophones, prev: said };
      partial = '';
    } else {
      const ch = vocab.symbols[prefix.sym];
      partial += pronounced && partial ? ' ' + ch : ch;
    }
    return { prefix, pb: -Infinity, pnb, score: -Infinity, extra: xExtra[x], words, partial, hot: xHot[x], pending: xPending[x], lex: xLex[x], oov: xOov[x] === 1, said, ahead: xAhead[x] };
  }

  // Finish: score the last partial word and the sentence end.
  let bestBeam: Beam | null = null, bestScore = -Infinity, bestLast: Said | null = null;
  for (const b of beams) {
    let extra = b.extra - b.ahead;
    let words = b.words, last: Said | null = null;
    // A last word outside the lexicon (cut off mid-spelling): a last resort when the lexicon is strict.
    if (lexRoot && b.partial && leavesLexicon(b, space)) extra -= oovPenalty === Infinity ? 1e6 : oovPenalty;
    if (b.partial) {
      const done = finishWord(b);
      last = { word: done.word, homophones: done.homophones, prev: b.said };
      extra += done.score;
      if (done.word) words = [...words, done.word];
      if (b.hot?.end) extra += b.pending; // a hotword at the very end
    }
    if (lm && options.sentenceEnd !== false) extra += lmWeight * lm.logProb(words.length ? words : ['<s>'], '</s>');
    const s = lse(b.pb, b.pnb) + extra;
    if (s > bestScore) { bestScore = s; bestBeam = b; bestLast = last; }
  }
  const ids: number[] = [];
  for (let p = bestBeam?.prefix ?? null; p && p.parent; p = p.parent) ids.push(p.sym);
  ids.reverse();
  while (ids.length && ids[ids.length - 1] === space) ids.pop();
  const emissions = ctcAlign(logp, T, V, ids, blank) ?? [];
  const hyp = wordsFromEmissions(emissions, vocab, frameShift);
  if (!pronounced || !bestBeam) return hyp;
  // Phone words -> their spellings, in order (timings and confidences stay those of the phones).
  const said: Said[] = [];
  for (let s = bestLast ?? bestBeam.said; s; s = s.prev) said.push(s);
  said.reverse();
  const spelled = lm && options.respell !== false ? respell(said, lm, options.history ?? [], options.sentenceEnd !== false) : said.map((s) => s.word);
  if (spelled.length !== hyp.words.length) return { text: spelled.filter((w) => w).join(' '), words: [] }; // (alignment failed)
  const words = hyp.words.map((w, i) => ({ ...w, word: spelled[i] })).filter((w) => w.word);
  return { text: words.map((w) => w.word).join(' '), words };
}

/**
 * Silent symbols (an empty string in the vocabulary: a pulled model's <s>, </s>, <unk>) emit nothing and
 * break a repeat, exactly as the blank does; the beam search counts their probability as the blank's.
 * Returns logp itself when the vocabulary has none, else a folded copy (T, V).
 */
export function foldSilent(logp: Float32Array, T: number, V: number, vocab: Vocabulary): Float32Array {
  const silent: number[] = [];
  for (let v = 0; v < V; v++) if (v !== vocab.blank && vocab.symbols[v] === '') silent.push(v);
  if (silent.length === 0) return logp;
  const out = logp.slice();
  for (let t = 0; t < T; t++) {
    const o = t * V;
    let m = out[o + vocab.blank];
    for (const v of silent) if (out[o + v] > m) m = out[o + v];
    if (m === -Infinity) continue;
    let sum = Math.exp(out[o + vocab.blank] - m);
    for (const v of silent) { sum += Math.exp(out[o + v] - m); out[o + v] = -Infinity; }
    out[o + vocab.blank] = m + Math.log(sum);
  }
  return out;
}
