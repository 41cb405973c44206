/**
 * A lexicon: the set of words a beam search may spell, as a trie over output symbols, so that a
 * hypothesis leaving the vocabulary is known the moment it does (not only when its word ends and
 * the LM scores it). For a character model the symbols are the word's letters; for a phone model
 * (see pronunciations.ts) they are its phones, and the node where a pronunciation ends lists the
 * words said that way (homophones: "to", "too", "two"). Built once and shared by all decodes.
 */

export interface LexNode {
  next: Map<string, LexNode>;
  /** A word ends here. */
  end: boolean;
  /** The words that end here (set by a pronunciation lexicon; a spelling lexicon's word is its path). */
  words?: string[];
}

export class Lexicon {
  readonly root: LexNode = { next: new Map(), end: false };
  /** Paths are pronunciations (phones), not spellings: a word's text is read from `words` at its end. */
  readonly pronounced: boolean;
  size = 0;

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
      if (!n) { n = { next: new Map(), end: false }; node.next.set(s, n); }
      node = n;
    }
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
}
