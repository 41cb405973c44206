/**
 * A lexicon: the set of words a beam search may spell, as a character trie, so that a hypothesis
 * leaving the vocabulary is known the moment it does (not only when its word ends and the LM scores it).
 * Built once per language model (its unigrams) and shared by all decodes.
 */

export interface LexNode {
  next: Map<string, LexNode>;
  /** A word ends here. */
  end: boolean;
}

export class Lexicon {
  readonly root: LexNode = { next: new Map(), end: false };
  size = 0;

  constructor(words: Iterable<string>) {
    for (const w of words) this.add(w);
  }

  add(word: string): void {
    if (!word) return;
    let node = this.root;
    for (const ch of word) {
      let n = node.next.get(ch);
      if (!n) { n = { next: new Map(), end: false }; node.next.set(ch, n); }
      node = n;
    }
    if (!node.end) { node.end = true; this.size++; }
  }

  has(word: string): boolean {
    let node: LexNode | undefined = this.root;
    for (const ch of word) if (!(node = node.next.get(ch))) return false;
    return node.end;
  }
}
