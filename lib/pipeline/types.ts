/**
 * Types shared by the recognizer and its streams (kept apart so that neither imports the other's
 * module for them).
 */
import type { Hotword } from '../decode/ctc-beam.js';
import type { Hypothesis, Vocabulary } from '../decode/types.js';
import type { Waveform } from '../types.js';

/** Decoding options of transcribe(); each overrides the model's tuned value (model.json `decoding`). */
export interface DecodeOptions {
  /** Beam width; 1 = greedy (default 8 when an LM is used, else 1). */
  beam?: number;
  /** Use the language model (default: the model's lm.arpa.gz when present). */
  useLm?: boolean;
  lmWeight?: number;
  wordBonus?: number;
  hotwords?: Hotword[];
  /**
   * Spell only words of the LM's vocabulary (plus hotwords), default from model.json `decoding`, else false.
   * A phone model always spells through its pronunciation dictionary: with the lexicon, only the LM's words
   * (when it has an LM); without, any word of the dictionary.
   */
  lexicon?: boolean;
  /** With `lexicon`: nats charged per word outside it instead of forbidding it (default: forbidden). */
  oovPenalty?: number;
  /** LM look-ahead while a word is spelled (default true; see ctc-beam.ts). */
  lookAhead?: boolean;
  /** Nats taken from the blank's log-probability per frame in beam search (default: model.json `decoding.blankPenalty`, else 0). */
  blankPenalty?: number;
  /** Phone models: re-choose homophones over the whole sentence at the end (default true; see ctc-beam.ts). */
  respell?: boolean;
}

/** A transcript: the words with their times and confidences, and the audio's length. */
export interface Transcript extends Hypothesis {
  /** Seconds of audio. */
  duration: number;
}

/**
 * What a stream needs of its recognizer: log-probabilities of audio, a quick and a full decoding,
 * and the model's frame shift, vocabulary size and blank (lib/pipeline/recognizer.ts implements it).
 */
export interface StreamSource {
  readonly encoder: { readonly frameShift: number };
  readonly head: { readonly vocabSize: number };
  readonly vocab: Vocabulary;
  logProbs(audio: Waveform): Promise<{ logp: Float32Array; T: number; V: number; frameShift: number }>;
  draft(logp: Float32Array, T: number, V: number, frameShift: number): Hypothesis;
  transcribe(input: Waveform, options?: DecodeOptions): Promise<Transcript>;
}
