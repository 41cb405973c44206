/**
 * CTC greedy decoding: the best symbol per frame, repeats merged, blanks dropped. One pass over
 * (T, V) log-probabilities, row-major; word times come from the frames that emitted each character.
 */
import type { Hypothesis, Vocabulary, WordTiming } from './types.js';

/** One emitted symbol: its id, the frame where its run starts and ends (inclusive), and its best log-prob. */
export interface Emission { id: number; first: number; last: number; logp: number }

/**
 * Group emitted characters into words with times and confidences.
 * @param frameShift seconds per frame
 */
export function wordsFromEmissions(emissions: Emission[], vocab: Vocabulary, frameShift: number): Hypothesis {
  const words: WordTiming[] = [];
  let chars = '', start = -1, end = -1, conf = 0, n = 0;
  const flush = (): void => {
    if (chars) words.push({ word: chars, start: round(start * frameShift), end: round((end + 1) * frameShift), confidence: round(conf / n) });
    chars = ''; n = 0; conf = 0;
  };
  for (const e of emissions) {
    const s = vocab.symbols[e.id];
    if (s === '') continue; // a silent symbol (see foldSilent): it only broke a repeat
    if (s === ' ') { flush(); continue; }
    if (!chars) start = e.first;
    chars += s;
    end = e.last;
    conf += Math.exp(e.logp);
    n++;
  }
  flush();
  return { text: words.map((w) => w.word).join(' '), words };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** Greedy decode of log-probabilities `logp` (T, V). */
export function ctcGreedy(logp: Float32Array, T: number, V: number, vocab: Vocabulary, frameShift: number): Hypothesis {
  const emissions: Emission[] = [];
  let prev = vocab.blank;
  for (let t = 0; t < T; t++) {
    const o = t * V;
    let best = 0, bestLp = logp[o];
    for (let v = 1; v < V; v++) if (logp[o + v] > bestLp) { bestLp = logp[o + v]; best = v; }
    if (best !== vocab.blank) {
      if (best === prev) {
        const e = emissions[emissions.length - 1];
        e.last = t;
        if (bestLp > e.logp) e.logp = bestLp;
      } else {
        emissions.push({ id: best, first: t, last: t, logp: bestLp });
      }
    }
    prev = best;
  }
  return wordsFromEmissions(emissions, vocab, frameShift);
}
