/** Decoder results: plain objects, so they serialise straight to JSON. */

/** One recognised word with its times (seconds from the start of the audio) and confidence. */
export interface WordTiming {
  word: string;
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
  /** Mean posterior of the word's characters at the frames that emitted them, in [0, 1]. */
  confidence: number;
}

/** A decoded transcript: its text, and each word with start and end in seconds and a confidence in [0, 1]. */
export interface Hypothesis {
  text: string;
  words: WordTiming[];
}

/** A CTC output alphabet: symbols[blank] is the blank; ' ' separates words. */
export interface Vocabulary {
  symbols: readonly string[];
  blank: number;
}
