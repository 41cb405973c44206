/**
 * A lexicon: the set of words a beam search may spell, as a trie over output symbols, so that a
 * hypothesis leaving the vocabulary is known the moment it does (not only when its word ends and
 * the LM scores it). For a character model the symbols are the word's letters; for a phone model
 * (see pronunciations.ts) they are its phones, and the node where a pronunciation ends lists the
 * words said that way (homophones: "to", "too", "two"). Built once and shared by all decodes.
 */

export interface LexNode {
  /** Index of the node in its lexicon (0 for the root), for per-node tables such as lookAhead(). */
  id: number;
  next: Map<string, LexNode>;
  /** A word ends here. */
  end: boolean;
  /** The words that end here (set by a pronunciation lexicon; a spelling lexicon's word is its path). */
  words?: string[];
}

export class Lexicon {
  readonly root: LexNode = { id: 0, next: new Map(), end: false };
  /** Paths are pronunciations (phones), not spellings: a word's text is read from `words` at its end. */
  readonly pronounced: boolean;
  size = 0;
  /** Nodes in the trie, the root included. */
  nodes = 1;
  private readonly ahead = new Map<object, Float32Array>();

  constructor(words: Iterable<string>, pronounced = false) {
    this.pronounced = pronounced;
    if (!pronounced) for (const w of words) this.add(w);
  }

  /** Add a word, spelled by `symbols` (default: its characters). */
  add(word: string, symbols: Iterable<string> = word): void {
    if (!word) return;
    let node = this.root;
    for (const s of symbols) {
      let n = node.next.get(s);
      if (!n) { n = { id: this.nodes++, next: new Map(), end: false }; node.next.set(s, n); }
      node = n;
    }
    this.ahead.clear();
    if (this.pronounced) {
      if (node.words?.includes(word)) return;
      (node.words ??= []).push(word);
      node.end = true;
      this.size++;
    } else if (!node.end) { node.end = true; this.size++; }
  }

  /** True when `symbols` (a spelling, or a pronunciation's phones) is a whole word. */
  has(symbols: Iterable<string>): boolean {
    let node: LexNode | undefined = this.root;
    for (const s of symbols) if (!(node = node.next.get(s))) return false;
    return node.end;
  }

  /**
   * LM look-ahead: for every node, the best `score` (e.g. ln P_unigram) of the words at or below it,
   * so a search can charge a word's likely LM cost while it is still being spelled (one float per
   * node, computed once per `key`, e.g. the LM, and cached). A node with no word below it gets -Infinity.
   */
  lookAhead(key: object, score: (word: string) => number): Float32Array {
    let table = this.ahead.get(key);
    if (table) return table;
    table = new Float32Array(this.nodes).fill(-Infinity);
    const best = table;
    // Iterative post-order walk (cmudict's trie is deep enough to make recursion a risk).
    const stack: Array<{ node: LexNode; path: string; children: Iterator<[string, LexNode]> }> = [{ node: this.root, path: '', children: this.root.next.entries() }];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const step = top.children.next();
      if (!step.done) {
        const [sym, child] = step.value;
        stack.push({ node: child, path: this.pronounced ? '' : top.path + sym, children: child.next.entries() });
        continue;
      }
      stack.pop();
      const { node, path } = top;
      let b = best[node.id];
      if (node.end) for (const w of this.pronounced ? node.words ?? [] : [path]) b = Math.max(b, score(w));
      best[node.id] = b;
      if (stack.length) {
        const parent = stack[stack.length - 1].node;
        if (b > best[parent.id]) best[parent.id] = b;
      }
    }
    this.ahead.set(key, table);
    return table;
  }
}
