/**
 * Spelling a phone hypothesis: the words it said so far (a linked list sharing tails between beams), and
 * the choice among homophones for the whole sentence once the search has ended (see ctc-beam.ts).
 */
import type { ArpaLm } from './arpa.js';

/**
 * The words spelled so far by a phone hypothesis, newest first (shared tails, no copying); `homophones`:
 * the other spellings of the same phones, when there are any (re-chosen for the best hypothesis at the end).
 */
export interface Said { word: string; homophones: readonly string[] | null; prev: Said | null }

/**
 * The spellings of a phone hypothesis's words that the LM likes best as a whole sentence. The search picks a
 * homophone when its word ends, from the words before it ("to" after the sentence start); the words after it
 * can change the choice ("two years"). A Viterbi pass over the homophone choices, with the last n-1 words as
 * the state, finds the best; the phones (and the acoustic score) are the same for all of them.
 */
export function respell(said: readonly Said[], lm: ArpaLm, history: readonly string[], sentenceEnd: boolean): string[] {
  if (!said.some((s) => s.homophones)) return said.map((s) => s.word);
  const keep = Math.max(1, lm.order - 1);
  interface Path { score: number; context: string[]; words: string[] }
  let paths = new Map<string, Path>([['', { score: 0, context: history.length ? history.slice(-keep) : ['<s>'], words: [] }]]);
  for (const s of said) {
    const next = new Map<string, Path>();
    for (const p of paths.values()) {
      for (const w of s.word ? s.homophones ?? [s.word] : ['']) {
        // A dropped (cut-off) word is not scored and not context, as in the search.
        const score = w ? p.score + lm.logProb(p.context, w) : p.score;
        const context = w ? [...p.context, w].slice(-keep) : p.context;
        const key = context.join(' ');
        const old = next.get(key);
        if (!old || score > old.score) next.set(key, { score, context, words: [...p.words, w] });
      }
    }
    paths = next;
  }
  let best: Path | null = null, bestScore = -Infinity;
  for (const p of paths.values()) {
    const score = p.score + (sentenceEnd ? lm.logProb(p.context, '</s>') : 0);
    if (score > bestScore) { bestScore = score; best = p; }
  }
  return best!.words;
}
