/** Decoder results: plain objects, so they serialise straight to JSON. */

export interface WordTiming {
  word: string;
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
  /** Mean posterior of the word's characters at the frames that emitted them, in [0, 1]. */
  confidence: number;
}

export interface Hypothesis {
  text: string;
  words: WordTiming[];
}

/** A CTC output alphabet: symbols[blank] is the blank; ' ' separates words. */
export interface Vocabulary {
  symbols: readonly string[];
  blank: number;
}
