/**
 * The search graph of an HMM acoustic model with tied triphone states (senones), as PocketSphinx's
 * models define it: a model definition (`pocketsphinx_mdef_convert -text`) that maps each
 * context-independent phone and each triphone (base, left, right, word position b/e/i/s) to its
 * transition matrix and three senones, and the transition matrices (s3 binary file).
 *
 * The graph is one lexical tree over the dictionary's words (prefixes shared), with cross-word
 * contexts modelled as PocketSphinx's tree search does:
 *   - a word's first HMM depends on the phone before the word: one copy per distinct senone
 *     triple over the possible left phones (the "roots"), all sharing the rest of the tree;
 *   - a word's last HMM depends on the phone after it: one copy per distinct triple over the
 *     possible right phones, each listing the right phones it serves;
 *   - a one-phone word needs both: one copy per left phone, fanned out over right phones.
 * Words meet through (left phone, right phone) slots: a word ending in phone L, in its copy for
 * right phone R, may be followed by a word whose first HMM was built for left phone L and starts
 * with R (see hmm-search.ts). Silence (SIL) is the context before the first word and after the last.
 *
 * Everything is held in typed arrays; children of a node are a range of `kids`. Built once per
 * model and dictionary (2.1M HMMs and 25k roots, 11-13 s, for the 72k words of PocketSphinx's en-us LM and model).
 */
import { InputError } from '../errors.js';

/** Phones, their HMMs and transitions: what the search needs of an acoustic model. */
export interface HmmTopology {
  /** Context-independent phones in model order ('SIL' among them; fillers such as '+NSN+' too). */
  phones: string[];
  /** CI phone -> [senone 0, senone 1, senone 2, transition matrix]. */
  ci: Map<string, Int32Array>;
  /** 'base left right pos' -> [senone 0, senone 1, senone 2, transition matrix]. */
  tri: Map<string, Int32Array>;
  /** Senones in the model. */
  senones: number;
  /** ln P(stay) and ln P(advance) of state j of matrix m, at [3 m + j] (state 2 advances out of the HMM). */
  selfLp: Float64Array;
  nextLp: Float64Array;
}

/** Parse a text model definition (`pocketsphinx_mdef_convert -text`); `file` names it in errors. */
export function parseMdefText(text: string, file: string): Pick<HmmTopology, 'phones' | 'ci' | 'tri' | 'senones'> {
  const phones: string[] = [];
  const ci = new Map<string, Int32Array>(), tri = new Map<string, Int32Array>();
  let senones = -1;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const c = lines[i].trim().split(/\s+/);
    if (c.length === 2 && c[1] === 'n_tied_state') senones = Number(c[0]);
    if (c.length < 10 || c[0].startsWith('#') || !/^\d+$/.test(c[6])) continue;
    if (c.length !== 10 || c[9] !== 'N') throw new InputError(`line ${i + 1}: expected 'base left right pos attrib tmat s0 s1 s2 N' (3-state HMMs), got ${JSON.stringify(lines[i].trim().slice(0, 80))}`, file);
    const h = Int32Array.of(Number(c[6]), Number(c[7]), Number(c[8]), Number(c[5]));
    if (c[1] === '-') { ci.set(c[0], h); phones.push(c[0]); } else tri.set(`${c[0]} ${c[1]} ${c[2]} ${c[3]}`, h);
  }
  if (phones.length === 0 || senones <= 0) throw new InputError('no phones or no n_tied_state line: not a text model definition', file);
  if (!ci.has('SIL')) throw new InputError('the model has no SIL phone', file);
  for (const h of [...ci.values(), ...tri.values()]) {
    if (h[0] >= senones || h[1] >= senones || h[2] >= senones) throw new InputError(`a senone id is >= n_tied_state (${senones})`, file);
  }
  return { phones, ci, tri, senones };
}

/**
 * Parse s3 transition matrices (`transition_matrices`): a text header ending `endhdr\n`, the uint32
 * byte-order magic 0x11223344, int32 matrices, rows, columns and count, then float32 counts or
 * probabilities [matrix][from state][to state], each row normalised here. 3-state left-to-right HMMs only.
 */
export function parseTransitions(bytes: Uint8Array, file: string): { selfLp: Float64Array; nextLp: Float64Array } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = buf.indexOf('endhdr\n');
  if (at < 0 || buf.length < at + 23) throw new InputError('no s3 header (endhdr): not a transition matrix file', file);
  const o = at + 7;
  if (buf.readUInt32LE(o) !== 0x11223344) throw new InputError('byte-order magic is not 0x11223344 (little-endian files only)', file);
  const [m, rows, cols, count] = [buf.readInt32LE(o + 4), buf.readInt32LE(o + 8), buf.readInt32LE(o + 12), buf.readInt32LE(o + 16)];
  if (rows !== 3 || cols !== 4 || count !== m * 12) throw new InputError(`expected 3 x 4 matrices, got ${rows} x ${cols} (count ${count})`, file);
  if (buf.length < o + 20 + 4 * count) throw new InputError(`truncated: ${count} values declared`, file);
  const selfLp = new Float64Array(m * 3), nextLp = new Float64Array(m * 3);
  for (let k = 0; k < m; k++) for (let j = 0; j < 3; j++) {
    const v = (c: number): number => buf.readFloatLE(o + 20 + 4 * ((k * 3 + j) * 4 + c));
    const stay = v(j), go = v(j + 1), sum = stay + go;
    if (!(sum > 0)) throw new InputError(`matrix ${k}, state ${j}: no probability to stay or advance`, file);
    selfLp[k * 3 + j] = Math.log(stay / sum);
    nextLp[k * 3 + j] = Math.log(go / sum);
  }
  return { selfLp, nextLp };
}

/** A root of the tree: a word-initial HMM built for the left phones `lefts`, starting with phone `first`. */
export interface HmmRoot { node: number; lefts: Int32Array; first: number }

export class HmmGraph {
  /** HMMs (tree nodes). */
  readonly size: number;
  /** Context phones: index into topology.phones; `sil` is SIL's. */
  readonly phones: number;
  readonly sil: number;
  /** Per node: three senones at [3 n + j], transition matrix, LM look-ahead, children kids[kidStart[n] .. kidEnd[n]). */
  readonly senone: Int32Array;
  readonly tmat: Int32Array;
  readonly lookAhead: Float32Array;
  readonly kidStart: Int32Array;
  readonly kidEnd: Int32Array;
  readonly kids: Int32Array;
  /**
   * Word-final nodes: the words ending there, wordList[wordStart[n] .. wordStart[n + 1]), the right phones
   * they serve, rightList[rightStart[n] .. rightStart[n + 1]), and their last phone (-1: not word-final).
   */
  readonly wordStart: Int32Array;
  readonly wordList: Int32Array;
  readonly rightStart: Int32Array;
  readonly rightList: Int32Array;
  readonly lastPhone: Int32Array;
  readonly roots: HmmRoot[];
  /** SIL's HMM: three senones and its transition matrix. */
  readonly silence: Int32Array;
  readonly topology: HmmTopology;

  private constructor(f: Omit<HmmGraph, 'size'>) {
    this.phones = f.phones; this.sil = f.sil; this.senone = f.senone; this.tmat = f.tmat; this.lookAhead = f.lookAhead;
    this.kidStart = f.kidStart; this.kidEnd = f.kidEnd; this.kids = f.kids;
    this.wordStart = f.wordStart; this.wordList = f.wordList; this.rightStart = f.rightStart; this.rightList = f.rightList;
    this.lastPhone = f.lastPhone; this.roots = f.roots; this.silence = f.silence; this.topology = f.topology;
    this.size = f.tmat.length;
  }

  /**
   * Build the tree for `prons` (word id and its phones; a word may come with several) where
   * `lookAhead(id)` is the score a word is charged in advance (e.g. the weighted unigram LM: each
   * node carries the best of the words below it). Phones must be the topology's.
   */
  static build(topo: HmmTopology, prons: Iterable<[number, readonly string[]]>, lookAhead: (word: number) => number): HmmGraph {
    const pid = new Map(topo.phones.map((p, i) => [p, i]));
    const sil = pid.get('SIL')!;
    // Contexts: the speech phones and SIL (noise fillers never neighbour a word).
    const ctx = topo.phones.map((_, i) => i).filter((i) => !topo.phones[i].startsWith('+'));
    const hmm = (b: string, l: string, r: string, pos: string): Int32Array => {
      let h = topo.tri.get(`${b} ${l} ${r} ${pos}`);
      // A triphone seen only at another word position, else the CI phone (as PocketSphinx backs off).
      if (!h) for (const p of 'ibes') if ((h = topo.tri.get(`${b} ${l} ${r} ${p}`))) break;
      return h ?? topo.ci.get(b)!;
    };
    const key = (h: Int32Array): string => `${h[0]},${h[1]},${h[2]},${h[3]}`;
    // First as objects: classes (first two phones) at the top, inner HMMs, and word ends (last phone, the one before).
    interface Inner { h: Int32Array | null; kids: Map<string, Inner>; ends: Map<string, End>; la: number; first?: string; second?: string }
    interface End { last: string; prev: string; words: number[]; la: number }
    const inner = (h: Int32Array | null): Inner => ({ h, kids: new Map(), ends: new Map(), la: -Infinity });
    const classes = new Map<string, Inner>(), singles = new Map<string, number[]>();
    for (const [w, ph] of prons) {
      const bad = ph.find((p) => !pid.has(p));
      if (bad !== undefined || ph.length === 0) throw new InputError(`word ${w}: phone ${JSON.stringify(bad)} is not one of the acoustic model's`);
      const n = ph.length;
      if (n === 1) { const s = singles.get(ph[0]); if (s) s.push(w); else singles.set(ph[0], [w]); continue; }
      const ck = `${ph[0]} ${ph[1]}`;
      let node: Inner | undefined = classes.get(ck);
      if (!node) { node = { ...inner(null), first: ph[0], second: ph[1] }; classes.set(ck, node); }
      for (let i = 1; i < n - 1; i++) {
        const h = hmm(ph[i], ph[i - 1], ph[i + 1], 'i'), k = key(h);
        let c: Inner | undefined = node.kids.get(k);
        if (!c) { c = inner(h); node.kids.set(k, c); }
        node = c;
      }
      const ek = `${ph[n - 1]} ${ph[n - 2]}`;
      let end = node.ends.get(ek);
      if (!end) { end = { last: ph[n - 1], prev: ph[n - 2], words: [], la: -Infinity }; node.ends.set(ek, end); }
      if (!end.words.includes(w)) end.words.push(w);
    }
    // Look-ahead: the best of the words at or below each node (iterative post-order: the tree is deep).
    const stack: { node: Inner; it: Iterator<Inner> }[] = [];
    for (const top of classes.values()) {
      stack.push({ node: top, it: top.kids.values() });
      while (stack.length) {
        const s = stack[stack.length - 1], nx = s.it.next();
        if (!nx.done) { stack.push({ node: nx.value, it: nx.value.kids.values() }); continue; }
        stack.pop();
        let b = -Infinity;
        for (const c of s.node.kids.values()) if (c.la > b) b = c.la;
        for (const e of s.node.ends.values()) { for (const w of e.words) e.la = Math.max(e.la, lookAhead(w)); if (e.la > b) b = e.la; }
        s.node.la = b;
      }
    }
    // Then flat: nodes in creation order.
    const senone: number[] = [], tmat: number[] = [], la: number[] = [], kidStart: number[] = [], kidEnd: number[] = [], last: number[] = [];
    const kids: number[] = [], roots: HmmRoot[] = [];
    // Word ends, as (node, words, rights) in any order; flattened by node at the end.
    const ends: { id: number; ws: number[]; rs: Int32Array }[] = [];
    const node = (h: Int32Array, l: number): number => {
      senone.push(h[0], h[1], h[2]); tmat.push(h[3]); la.push(l); kidStart.push(0); kidEnd.push(0); last.push(-1);
      return tmat.length - 1;
    };
    /** Copies of an HMM over contexts: contexts grouped by the triple they give. */
    const fan = (make: (c: number) => Int32Array): { h: Int32Array; ctx: Int32Array }[] => {
      const groups = new Map<string, { h: Int32Array; ctx: number[] }>();
      for (const c of ctx) {
        const h = make(c), k = key(h);
        const g = groups.get(k);
        if (g) g.ctx.push(c); else groups.set(k, { h, ctx: [c] });
      }
      return [...groups.values()].map((g) => ({ h: g.h, ctx: Int32Array.from(g.ctx) }));
    };
    const wordEnd = (h: Int32Array, l: number, ws: number[], rs: Int32Array, phone: string): number => {
      const id = node(h, l);
      ends.push({ id, ws, rs });
      last[id] = pid.get(phone)!;
      return id;
    };
    // Children of a node, depth first (recursion as deep as the longest word).
    const children = (top: Inner): [number, number] => {
      const ids: number[] = [];
      for (const c of top.kids.values()) {
        const id = node(c.h!, c.la);
        const [s, e] = children(c);
        kidStart[id] = s; kidEnd[id] = e;
        ids.push(id);
      }
      for (const e of top.ends.values()) {
        for (const g of fan((r) => hmm(e.last, e.prev, topo.phones[r], 'e'))) ids.push(wordEnd(g.h, e.la, e.words, g.ctx, e.last));
      }
      const s = kids.length;
      kids.push(...ids);
      return [s, kids.length];
    };
    for (const cl of classes.values()) {
      const [s, e] = children(cl);
      for (const g of fan((l) => hmm(cl.first!, topo.phones[l], cl.second!, 'b'))) {
        const id = node(g.h, cl.la);
        kidStart[id] = s; kidEnd[id] = e;
        roots.push({ node: id, lefts: g.ctx, first: pid.get(cl.first!)! });
      }
    }
    for (const [p, ws] of singles) {
      const l = Math.max(...ws.map(lookAhead));
      for (const left of ctx) {
        for (const g of fan((r) => hmm(p, topo.phones[left], topo.phones[r], 's'))) {
          roots.push({ node: wordEnd(g.h, l, ws, g.ctx, p), lefts: Int32Array.of(left), first: pid.get(p)! });
        }
      }
    }
    const N = tmat.length;
    const wordStart = new Int32Array(N + 1), rightStart = new Int32Array(N + 1);
    for (const e of ends) { wordStart[e.id + 1] = e.ws.length; rightStart[e.id + 1] = e.rs.length; }
    for (let n = 0; n < N; n++) { wordStart[n + 1] += wordStart[n]; rightStart[n + 1] += rightStart[n]; }
    const wordList = new Int32Array(wordStart[N]), rightList = new Int32Array(rightStart[N]);
    for (const e of ends) { wordList.set(e.ws, wordStart[e.id]); rightList.set(e.rs, rightStart[e.id]); }
    return new HmmGraph({
      phones: topo.phones.length, sil, senone: Int32Array.from(senone), tmat: Int32Array.from(tmat), lookAhead: Float32Array.from(la),
      kidStart: Int32Array.from(kidStart), kidEnd: Int32Array.from(kidEnd), kids: Int32Array.from(kids), wordStart, wordList, rightStart, rightList,
      lastPhone: Int32Array.from(last), roots, silence: topo.ci.get('SIL')!, topology: topo,
    });
  }
}
