/**
 * Long recordings are decoded segment by segment: beam search and forced alignment cost grows
 * with the length of the transcript (prefix keys, the T x 2L alignment lattice), so an hour of
 * audio must not be one search. Cuts go into pauses: the middle of the longest run of frames whose
 * best symbol is blank, in the last half of each window, so no word is split.
 */
import type { Hypothesis } from './types.js';

/**
 * Segment boundaries [start, end) covering 0..T, each at most `maxFrames` long.
 * @param logp (T, V) log-probabilities, row-major
 */
export function splitAtPauses(logp: Float32Array, T: number, V: number, blank: number, maxFrames: number): Array<[number, number]> {
  if (!(maxFrames >= 2)) throw new RangeError(`maxFrames must be at least 2, got ${maxFrames}`);
  const out: Array<[number, number]> = [];
  let start = 0;
  while (T - start > maxFrames) {
    const lo = start + (maxFrames >> 1), hi = start + maxFrames; // cut lies in [lo, hi]
    let bestLen = 0, bestCut = -1, run = 0;
    let bestBlank = -Infinity, fallback = hi;
    for (let t = lo; t < hi; t++) {
      const o = t * V;
      const b = logp[o + blank];
      let isBlank = true;
      for (let v = 0; v < V; v++) if (v !== blank && logp[o + v] > b) { isBlank = false; break; }
      run = isBlank ? run + 1 : 0;
      // The middle of the run ending here; ties go to the later run, so segments stay long.
      if (run > 0 && run >= bestLen) { bestLen = run; bestCut = t - (run >> 1); }
      if (b > bestBlank) { bestBlank = b; fallback = t; }
    }
    const cut = bestCut > start ? bestCut : Math.max(fallback, start + 1);
    out.push([start, cut]);
    start = cut;
  }
  out.push([start, T]);
  return out;
}

/**
 * Decode (T, V) log-probabilities segment by segment and join the results; word times are shifted
 * to the whole recording. `decodeOne` gets a view of the segment's rows and the text so far.
 */
export function decodeInSegments(
  logp: Float32Array, T: number, V: number, blank: number, frameShift: number, maxFrames: number,
  decodeOne: (segment: Float32Array, frames: number, history: readonly string[], last: boolean) => Hypothesis,
): Hypothesis {
  const segments = splitAtPauses(logp, T, V, blank, maxFrames);
  if (segments.length === 1) return decodeOne(logp, T, [], true);
  const words: Hypothesis['words'] = [];
  segments.forEach(([s, e], i) => {
    const history = words.slice(-HISTORY_WORDS).map((w) => w.word);
    const h = decodeOne(logp.subarray(s * V, e * V), e - s, history, i === segments.length - 1);
    const shift = s * frameShift;
    for (const w of h.words) words.push({ ...w, start: round(w.start + shift), end: round(w.end + shift) });
  });
  return { text: words.map((w) => w.word).join(' '), words };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
/** Words of LM context passed into the next segment (the beam keeps at most this many too). */
const HISTORY_WORDS = 4;
