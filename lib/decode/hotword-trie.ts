/** Hotwords as a trie over output symbols, which the beam search walks while a phrase is being spelled (see ctc-beam.ts). */
/** A hotword trie node; `spell` is the word of the phrase that ends here (phone models). */
export interface TrieNode { next: Map<string, TrieNode>; end: boolean; boost: number; spell?: string }

/** The trie of hotwords (ctc-beam.ts's Hotword: a phrase, its bonus per symbol, and its symbols when not its characters). */
export function hotwordTrie(hotwords: readonly { phrase: string; boost: number; symbols?: readonly string[] }[]): TrieNode {
  const root: TrieNode = { next: new Map(), end: false, boost: 0 };
  for (const { phrase, boost, symbols } of hotwords) {
    const words = phrase.split(' ');
    let node = root, w = 0;
    for (const ch of symbols ?? phrase) {
      if (ch === ' ') node.spell = words[w++];
      let n = node.next.get(ch);
      if (!n) { n = { next: new Map(), end: false, boost }; node.next.set(ch, n); }
      n.boost = Math.max(n.boost, boost);
      node = n;
    }
    node.end = true;
    node.spell = words[w];
  }
  return root;
}
