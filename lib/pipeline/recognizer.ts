/**
 * The recognizer: audio -> frozen encoder -> (adapter) -> CTC head -> decoder -> text with word
 * times. One object holds the encoder session, the head and the language model; transcribe() may
 * be called concurrently.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadAudio, toModelRate } from '../audio/index.js';
import { SAMPLE_RATE } from '../audio/constants.js';
import { ArpaLm } from '../decode/arpa.js';
import { ctcBeamSearch, decodingName, DEFAULT_LM_WEIGHT, DEFAULT_WORD_BONUS, tunedDecoding, unigramLookAhead, type Hotword } from '../decode/ctc-beam.js';
import { ctcGreedy } from '../decode/ctc-greedy.js';
import { decodeInSegments } from '../decode/segment.js';
import { Pronunciations } from '../decode/pronunciations.js';
import { CtcHead } from '../decode/ctc-head.js';
import type { Hypothesis, Vocabulary } from '../decode/types.js';
import { Encoder } from '../encoder/encoder.js';
import { DEFAULT_MODEL, resolveModel } from '../encoder/registry.js';
import { ConfigError, ModelError } from '../errors.js';
import { adapterLogProbs, type AdapterWeights } from '../adapter/math.js';
import { loadAdapter, type AdapterMeta } from '../adapter/io.js';
import { checkAdapterFits } from '../adapter/fit.js';
import type { Waveform } from '../types.js';
import { RecognitionStream, type StreamOptions } from './stream.js';
import type { DecodeOptions, Transcript } from './types.js';

export type { DecodeOptions, Transcript } from './types.js';

/** Options of loadRecognizer: the model, an adapter, an LM, threads, and decoding defaults. */
export interface RecognizerOptions extends DecodeOptions {
  /** Model name or folder (default: an adapter's own base model, else DEFAULT_MODEL, 'base-en-real'). */
  model?: string;
  /** Folder of user models to search for `model`. */
  modelsDir?: string;
  /** An ARPA LM file to use instead of the model's own. */
  lm?: string;
  /** ONNX Runtime threads (default: all cores). */
  threads?: number;
  /** An adapter folder (from `adapt-asr train`), or weights already in memory (an ensemble's members as an array). */
  adapter?: string | { meta?: AdapterMeta; weights: AdapterWeights | AdapterWeights[] };
}


/** Decoding options a caller can get wrong, checked before any work is done. */
function checkDecodeOptions(o: DecodeOptions): void {
  if (o.beam !== undefined && !(Number.isInteger(o.beam) && o.beam >= 1 && o.beam <= 1000)) throw new ConfigError(`beam must be an integer from 1 to 1000, got ${o.beam}`);
  if (o.oovPenalty !== undefined && !(o.oovPenalty >= 0)) throw new ConfigError(`oov penalty must be a number >= 0, got ${o.oovPenalty}`);
  if (o.blankPenalty !== undefined && !(o.blankPenalty >= -20 && o.blankPenalty <= 20)) throw new ConfigError(`blank penalty must be a number from -20 to 20, got ${o.blankPenalty}`);
}

export { DEFAULT_LM_WEIGHT, DEFAULT_WORD_BONUS };
/** Beam search runs on segments of at most this many seconds, cut in pauses (lib/decode/segment.ts). */
export const BEAM_SEGMENT_SECONDS = 30;

/**
 * A loaded model ready to transcribe: encoder, CTC head (and adapter), LM and pronunciations. Create with
 * loadRecognizer(); transcribe() may run concurrently; release() frees the ONNX session.
 */
export class Recognizer {
  readonly encoder: Encoder;
  readonly head: CtcHead;
  readonly vocab: Vocabulary;
  readonly lm?: ArpaLm;
  /** Phone models: the pronunciation dictionary that turns phones into words (and transcripts into targets). */
  readonly pronunciations?: Pronunciations;
  readonly defaults: DecodeOptions;
  /**
   * The LM weight and word bonus tuned for decoding with the LM (the adapter's own, else model.json
   * `decoding`), used when the caller gives none. They are not used without the LM: a bonus tuned
   * against LM costs is the wrong one for acoustic scores alone (base-en 2.4.0's +1 made --no-lm
   * insert words: TTS test WER 60.7% against 55.5% with bonus 0).
   */
  readonly lmTuning: { lmWeight?: number; wordBonus?: number };
  /** The word bonus tuned for decoding without the LM (model.json `decoding.noLmWordBonus`, else 0). */
  readonly noLmWordBonus: number;
  /** The adapter in use, if any (its members: one, or an ensemble's), and what its training found. */
  readonly adapter?: { meta?: AdapterMeta; weights: AdapterWeights[] };
  /** The encoder output the head reads: a 'top' adapter replaces the encoder's last blocks, so it starts from the states that enter them. */
  private readonly encoderOutput?: string;

  private constructor(encoder: Encoder, head: CtcHead, vocab: Vocabulary, lm: ArpaLm | undefined, pron: Pronunciations | undefined, defaults: DecodeOptions, lmTuning: { lmWeight?: number; wordBonus?: number }, noLmWordBonus: number, adapter?: { meta?: AdapterMeta; weights: AdapterWeights[] }) {
    this.encoder = encoder;
    this.pronunciations = pron;
    this.head = head;
    this.vocab = vocab;
    this.lm = lm;
    this.defaults = defaults;
    this.lmTuning = lmTuning;
    this.noLmWordBonus = noLmWordBonus;
    this.adapter = adapter;
    this.encoderOutput = adapter?.weights[0].method === 'top' ? encoder.manifest.trainableTop!.output : undefined;
  }

  static async create(options: RecognizerOptions = {}): Promise<Recognizer> {
    // Without a model: the adapter's own base model when one is given, else the default model.
    const given = options.adapter === undefined ? undefined : typeof options.adapter === 'string' ? loadAdapter(options.adapter) : options.adapter;
    const md = resolveModel(options.model ?? given?.meta?.base.name ?? DEFAULT_MODEL, options.modelsDir);
    const h = md.manifest.ctcHead;
    if (!h) throw new ModelError(`model '${md.manifest.name}' has no CTC head; train one with \`adapt-asr train --model ${md.manifest.name} --method head --as-base\``, md.dir);
    const head = md.manifest.encoder.output.type === 'logprobs' ? CtcHead.passThrough(h.vocab.length) : CtcHead.load(md.dir, h.weights!, h.bias!, md.manifest.encoder.hiddenSize, h.vocab.length);
    let lm: ArpaLm | undefined;
    const lmFile = options.lm ?? path.join(md.dir, 'lm.arpa.gz');
    if (options.useLm !== false && (options.lm !== undefined || fs.existsSync(lmFile))) lm = ArpaLm.load(lmFile);
    let adapter: { meta?: AdapterMeta; weights: AdapterWeights[] } | undefined;
    if (given !== undefined) {
      adapter = { meta: given.meta, weights: Array.isArray(given.weights) ? given.weights : [given.weights] };
      checkAdapterFits(md, adapter.meta, adapter.weights, typeof options.adapter === 'string' ? options.adapter : undefined);
    }
    const pron = Pronunciations.forModel(md.dir, h);
    // Words of the adapter's training transcripts that the dictionary lacks, as the trainer guessed them.
    if (pron && adapter?.meta?.words) pron.addWords(adapter.meta.words, typeof options.adapter === 'string' ? path.join(options.adapter, 'adapter.json') : undefined);
    checkDecodeOptions(options); // before the encoder session starts (assemble checks again: it has other callers)
    const encoder = await Encoder.create(md, { threads: options.threads });
    return Recognizer.assemble(encoder, head, { lm, pronunciations: pron, adapter }, options);
  }

  /**
   * A recognizer from parts already loaded: the encoder (on its model), the head, the LM and
   * dictionary, and the adapter. create() loads them from files; the browser build (lib/browser)
   * fetches them and comes here too, so decoding is the same code in both.
   */
  static assemble(encoder: Encoder, head: CtcHead, parts: { lm?: ArpaLm; pronunciations?: Pronunciations; adapter?: { meta?: AdapterMeta; weights: AdapterWeights[] } }, options: DecodeOptions = {}): Recognizer {
    const m = encoder.manifest, h = m.ctcHead!, pron = parts.pronunciations, adapter = parts.adapter;
    checkDecodeOptions(options);
    if (pron) for (const hw of options.hotwords ?? []) pron.hotword(hw, h.vocab);
    const tuned = m.decoding ?? {};
    return new Recognizer(encoder, head, { symbols: h.vocab, blank: h.blank }, parts.lm, pron, {
      beam: options.beam ?? tuned.beam, useLm: options.useLm, hotwords: options.hotwords,
      lmWeight: options.lmWeight, wordBonus: options.wordBonus,
      lexicon: options.lexicon ?? tuned.lexicon, oovPenalty: options.oovPenalty ?? tuned.oovPenalty,
      blankPenalty: options.blankPenalty ?? tuned.blankPenalty,
    }, {
      // The adapter's own LM weight and word bonus (chosen on its dev data) over the model's.
      lmWeight: adapter?.meta?.decoding?.lmWeight ?? tuned.lmWeight, wordBonus: adapter?.meta?.decoding?.wordBonus ?? tuned.wordBonus,
    }, tuned.noLmWordBonus ?? 0, adapter);
  }

  /**
   * The same model without the adapter, sharing this recognizer's encoder and LM (no second load):
   * the model's own head, LM weight and word bonus, and dictionary. Release this recognizer, not the
   * copy, when done with both.
   */
  withoutAdapter(): Recognizer {
    if (!this.adapter) return this;
    const m = this.encoder.manifest, h = m.ctcHead!;
    let pron = this.pronunciations;
    if (pron && this.adapter.meta?.words) {
      pron = Pronunciations.forModel(this.encoder.dir, h)!; // without the adapter's guessed words
      for (const hw of this.defaults.hotwords ?? []) pron.hotword(hw, h.vocab);
    }
    const tuned = m.decoding ?? {};
    const base = new Recognizer(this.encoder, this.head, this.vocab, this.lm, pron, this.defaults, { lmWeight: tuned.lmWeight, wordBonus: tuned.wordBonus }, this.noLmWordBonus);
    base.release = async () => undefined;
    return base;
  }

  /** Log-probabilities (T, V) of the CTC head for audio. */
  async logProbs(audio: Waveform): Promise<{ logp: Float32Array; T: number; V: number; frameShift: number }> {
    const enc = await this.encoder.encode(audio, this.encoderOutput);
    if (this.adapter) {
      const logp = adapterLogProbs(this.adapter.weights, enc.frames, enc.numFrames);
      return { logp, T: enc.numFrames, V: this.head.vocabSize, frameShift: enc.frameShift };
    }
    return { logp: this.head.logProbs(enc.frames, enc.numFrames), T: enc.numFrames, V: this.head.vocabSize, frameShift: enc.frameShift };
  }

  /**
   * Options for decoding without the LM: greedy for a character model; a phone model has no greedy
   * decoding (a beam of 1 loses words when a phone string leaves the dictionary), so its beam through the dictionary.
   */
  get withoutLm(): DecodeOptions {
    return this.pronunciations ? { useLm: false } : { beam: 1, useLm: false };
  }

  /** The name of the decoding these options give, e.g. "beam 16 + LM + lexicon" (see decode()). */
  decodingName(options: DecodeOptions = {}): string {
    const { lm, beam, o } = this.resolveDecoding(options);
    return decodingName(beam, !!lm, this.pronunciations ? (lm && o.lexicon ? true : 'dictionary') : !!lm && !!o.lexicon);
  }

  /** Options merged over the defaults, the LM in use and the beam width (1 = greedy). */
  private resolveDecoding(options: DecodeOptions): { o: DecodeOptions; lm?: ArpaLm; beam: number } {
    const o = { ...this.defaults, ...definedOnly(options) };
    const lm = o.useLm === false ? undefined : this.lm;
    return { o, lm, beam: o.beam ?? (lm || o.hotwords?.length || this.pronunciations ? 8 : 1) };
  }

  /** Decode head log-probabilities with the given options (defaults from the constructor). */
  decode(logp: Float32Array, T: number, V: number, frameShift: number, options: DecodeOptions = {}): Hypothesis {
    const { o, lm, beam } = this.resolveDecoding(options);
    const pron = this.pronunciations;
    checkDecodeOptions({ ...o, beam });
    if (beam === 1 && !o.hotwords?.length && !lm && !pron) return ctcGreedy(logp, T, V, this.vocab, frameShift);
    const lexicon = pron ? pron.lexicon(lm && o.lexicon ? lm : undefined) : lm && o.lexicon ? lm.lexicon() : undefined;
    // Phones of hotwords for a phone model; a character model spells them (any phones given are not for it).
    const hotwords = pron ? o.hotwords?.map((h) => pron.hotword(h, this.vocab.symbols)) : o.hotwords?.map(({ phrase, boost }) => ({ phrase, boost }));
    const tuned = tunedDecoding({ ...this.lmTuning, noLmWordBonus: this.noLmWordBonus }, !!lm);
    const beamOptions = { beam, lm, hotwords, lexicon, oovPenalty: o.oovPenalty, lookAhead: o.lookAhead, blankPenalty: o.blankPenalty, respell: o.respell, lmWeight: o.lmWeight ?? tuned.lmWeight, wordBonus: o.wordBonus ?? tuned.wordBonus };
    const maxFrames = Math.max(2, Math.round(BEAM_SEGMENT_SECONDS / frameShift));
    return decodeInSegments(logp, T, V, this.vocab.blank, frameShift, maxFrames, (seg, frames, history, last) =>
      ctcBeamSearch(seg, frames, V, this.vocab, frameShift, { ...beamOptions, history, sentenceEnd: last }));
  }

  /**
   * A quick decode for streaming partial results: greedy for a character model; a phone model
   * needs its dictionary, so a narrow beam (4) through it.
   */
  draft(logp: Float32Array, T: number, V: number, frameShift: number): Hypothesis {
    return this.pronunciations ? this.decode(logp, T, V, frameShift, { beam: 4, hotwords: [] }) : ctcGreedy(logp, T, V, this.vocab, frameShift);
  }

  /** Transcribe a WAV file path or a waveform. */
  async transcribe(input: string | Waveform, options: DecodeOptions = {}): Promise<Transcript> {
    const audio = typeof input === 'string' ? loadAudio(input) : toModelRate(input, SAMPLE_RATE);
    const { logp, T, V, frameShift } = await this.logProbs(audio);
    return { ...this.decode(logp, T, V, frameShift, options), duration: audio.samples.length / audio.sampleRate };
  }

  /** A stream for audio that arrives in chunks (see lib/pipeline/stream.ts). */
  createStream(options: StreamOptions = {}): RecognitionStream {
    const merged = { ...this.defaults, ...definedOnly(options) };
    // Build a phone model's lexicon trie and its LM look-ahead now (about a second for all of cmudict), not in the first partial result.
    if (this.pronunciations) {
      const { o, lm } = this.resolveDecoding(merged);
      const lexicon = this.pronunciations.lexicon(lm && o.lexicon ? lm : undefined);
      if (lm && o.lookAhead !== false) unigramLookAhead(lexicon, lm);
    }
    return new RecognitionStream(this, merged);
  }

  async release(): Promise<void> {
    await this.encoder.release();
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Load a recognizer (see RecognizerOptions). */
export const loadRecognizer = (options: RecognizerOptions = {}): Promise<Recognizer> => Recognizer.create(options);
