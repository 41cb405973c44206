/** Word and character error rates of a recognizer on a dataset, in total and per speaker. */
import { loadAudio } from '../audio/index.js';
import { readDataset, type Utterance } from '../data/manifest.js';
import { addCounts, rate, scoreUtterance, zeroCounts, type ErrorCounts } from '../eval/wer.js';
import type { DecodeOptions, Recognizer } from './recognizer.js';

/** Scores of evaluate(): WER and CER (fractions, not percent), error counts, audio and wall seconds, per speaker. */
export interface EvalResult {
  wer: number;
  cer: number;
  utterances: number;
  words: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  characters: number;
  /** Audio seconds and decoding wall time (real-time factor = seconds / audioSeconds). */
  audioSeconds: number;
  seconds: number;
  perSpeaker?: Record<string, { wer: number; cer: number; utterances: number; words: number }>;
  /** Files that could not be read, skipped. */
  failed: { file: string; error: string }[];
  /** Per utterance: reference, hypothesis, word errors (only when asked for). */
  items?: { id: string; reference: string; hypothesis: string; errors: number; words: number }[];
}

export interface EvalOptions extends DecodeOptions {
  /** Keep per-utterance results. */
  keepItems?: boolean;
  /** Called after each utterance. */
  onProgress?: (done: number, total: number) => void;
  /** Evaluate at most this many utterances (in file order). */
  limit?: number;
}

/** Score a recognizer on utterances (or a dataset path). Several decode settings share one encoding when `variants` is given. */
export async function evaluate(recognizer: Recognizer, data: string | Utterance[], options: EvalOptions = {}): Promise<EvalResult> {
  return (await evaluateVariants(recognizer, data, [options], options))[0];
}

export async function evaluateVariants(recognizer: Recognizer, data: string | Utterance[], variants: DecodeOptions[], options: EvalOptions = {}): Promise<EvalResult[]> {
  let utts = typeof data === 'string' ? readDataset(data).utterances : data;
  if (options.limit !== undefined) utts = utts.slice(0, options.limit);
  const acc = variants.map(() => ({ w: zeroCounts(), c: zeroCounts(), spk: new Map<string, { w: ErrorCounts; c: ErrorCounts; n: number }>(), items: [] as NonNullable<EvalResult['items']>, seconds: 0 }));
  const failed: EvalResult['failed'] = [];
  let audioSeconds = 0, n = 0;
  for (const [i, u] of utts.entries()) {
    let lp;
    const t0 = performance.now();
    try {
      const audio = loadAudio(u.audio);
      audioSeconds += audio.samples.length / audio.sampleRate;
      lp = await recognizer.logProbs(audio);
    } catch (err) {
      failed.push({ file: u.audio, error: (err as Error).message });
      options.onProgress?.(i + 1, utts.length);
      continue;
    }
    const encodeSeconds = (performance.now() - t0) / 1000;
    n++;
    variants.forEach((v, k) => {
      const t1 = performance.now();
      const hyp = recognizer.decode(lp.logp, lp.T, lp.V, lp.frameShift, v);
      const a = acc[k];
      a.seconds += encodeSeconds + (performance.now() - t1) / 1000;
      const s = scoreUtterance(u.text, hyp.text);
      a.w = addCounts(a.w, s.words);
      a.c = addCounts(a.c, s.chars);
      if (u.speaker !== undefined) {
        const e = a.spk.get(u.speaker) ?? { w: zeroCounts(), c: zeroCounts(), n: 0 };
        a.spk.set(u.speaker, { w: addCounts(e.w, s.words), c: addCounts(e.c, s.chars), n: e.n + 1 });
      }
      if (options.keepItems) a.items.push({ id: u.id, reference: u.text, hypothesis: hyp.text, errors: s.words.substitutions + s.words.deletions + s.words.insertions, words: s.words.ref });
    });
    options.onProgress?.(i + 1, utts.length);
  }
  return acc.map((a) => ({
    wer: rate(a.w), cer: rate(a.c), utterances: n, words: a.w.ref,
    substitutions: a.w.substitutions, deletions: a.w.deletions, insertions: a.w.insertions, characters: a.c.ref,
    audioSeconds, seconds: a.seconds,
    ...(a.spk.size ? { perSpeaker: Object.fromEntries([...a.spk].sort().map(([k, e]) => [k, { wer: rate(e.w), cer: rate(e.c), utterances: e.n, words: e.w.ref }])) } : {}),
    failed,
    ...(options.keepItems ? { items: a.items } : {}),
  }));
}
