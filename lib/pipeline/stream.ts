/**
 * Streaming recognition: audio arrives in chunks; partial results come out as it does.
 *
 * Each update encodes a trailing window of at most `windowSeconds` (starting on an encoder frame
 * boundary), so an update costs a bounded amount whatever the stream's length. Frames that have
 * left the window are committed from the window that last saw them; a partial result is the quick
 * decoding (Recognizer.draft: greedy, or a narrow beam for a phone model) of the committed frames
 * followed by the current window's. Once more than `freezeSeconds` of committed frames wait, those up to
 * a pause are decoded one last time and their text frozen, so the work per update stays bounded
 * however long the stream. finish() decodes the whole buffered audio exactly as transcribe() would,
 * so the final result equals offline recognition.
 */
import { Resampler } from '../audio/resample.js';
import { SAMPLE_RATE } from '../audio/constants.js';
import { splitAtPauses } from '../decode/segment.js';
import { ConfigError } from '../errors.js';
import type { DecodeOptions, StreamSource, Transcript } from './types.js';

export interface StreamOptions extends DecodeOptions {
  /** Sample rate of the chunks given to acceptWaveform (default 16000). */
  sampleRate?: number;
  /** New audio, in seconds, that triggers a partial result (default 0.2). */
  updateSeconds?: number;
  /** Longest window encoded per update (default 10 s). */
  windowSeconds?: number;
  /** Committed audio decoded again per update before its text is frozen at a pause (default 20 s). */
  freezeSeconds?: number;
}

export interface PartialResult {
  text: string;
  /** Seconds of audio received so far. */
  audioSeconds: number;
}

export class RecognitionStream {
  private readonly rec: StreamSource;
  private readonly opts: StreamOptions;
  private readonly resampler?: Resampler;
  private audio = new Float32Array(16000 * 30);
  private length = 0;
  private lastUpdate = 0;
  private committed: Float32Array[] = []; // log-prob rows of committed frames not yet frozen, in order
  private committedFrames = 0; // all committed frames, frozen or not
  private frozenFrames = 0;
  private frozenText: string[] = [];
  private lastWindow: { startFrame: number; logp: Float32Array; T: number } | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  private finished = false;
  private partial: PartialResult = { text: '', audioSeconds: 0 };

  constructor(recognizer: StreamSource, options: StreamOptions = {}) {
    this.rec = recognizer;
    this.opts = options;
    const rate = options.sampleRate ?? SAMPLE_RATE;
    if (!Number.isInteger(rate) || rate <= 0) throw new ConfigError(`stream sampleRate must be a positive integer, got ${rate}`);
    if (rate !== SAMPLE_RATE) this.resampler = new Resampler(rate, SAMPLE_RATE);
  }

  /**
   * Add audio samples (mono, in [-1, 1], at the stream's sample rate). Resolves to a new partial
   * result when enough audio has arrived since the last one, else to null.
   */
  acceptWaveform(chunk: Float32Array): Promise<PartialResult | null> {
    if (this.finished) throw new ConfigError('acceptWaveform after finish()');
    if (!(chunk instanceof Float32Array)) throw new ConfigError(`acceptWaveform needs a Float32Array, got ${(chunk as object)?.constructor?.name ?? typeof chunk}`);
    this.append(this.resampler ? this.resampler.push(chunk) : chunk);
    const due = this.length - this.lastUpdate >= (this.opts.updateSeconds ?? 0.2) * SAMPLE_RATE;
    if (!due) return Promise.resolve(null);
    this.lastUpdate = this.length;
    const job = this.busy.then(() => this.update());
    this.busy = job.catch(() => undefined);
    return job;
  }

  /** The latest partial result. */
  get result(): PartialResult {
    return this.partial;
  }

  /** End of audio: the final transcript, identical to recognizer.transcribe() on the whole audio. */
  async finish(): Promise<Transcript> {
    this.finished = true;
    if (this.resampler) this.append(this.resampler.flush());
    await this.busy;
    return this.rec.transcribe({ samples: this.audio.slice(0, this.length), sampleRate: SAMPLE_RATE }, this.opts);
  }

  private append(x: Float32Array): void {
    if (this.length + x.length > this.audio.length) {
      const grown = new Float32Array(Math.max(2 * this.audio.length, this.length + x.length));
      grown.set(this.audio.subarray(0, this.length));
      this.audio = grown;
    }
    this.audio.set(x, this.length);
    this.length += x.length;
  }

  private async update(): Promise<PartialResult> {
    const frameSamples = Math.round(this.rec.encoder.frameShift * SAMPLE_RATE);
    const end = this.length;
    const windowSamples = (this.opts.windowSeconds ?? 10) * SAMPLE_RATE;
    const startFrame = Math.max(0, Math.floor((end - windowSamples) / frameSamples));
    // Commit frames that leave the window, from the last window that saw them.
    if (this.lastWindow && startFrame > this.committedFrames) {
      const V = this.rec.head.vocabSize;
      const from = this.committedFrames - this.lastWindow.startFrame;
      const to = Math.min(startFrame - this.lastWindow.startFrame, this.lastWindow.T);
      if (to > from) {
        this.committed.push(this.lastWindow.logp.slice(from * V, to * V));
        this.committedFrames += to - from;
      }
    }
    const begin = this.committedFrames * frameSamples;
    const win = await this.rec.logProbs({ samples: this.audio.slice(begin, end), sampleRate: SAMPLE_RATE });
    this.lastWindow = { startFrame: this.committedFrames, logp: win.logp, T: win.T };
    const V = win.V;
    let pending = this.committedFrames - this.frozenFrames;
    let rows = concat(this.committed, pending * V);
    if (pending * win.frameShift > (this.opts.freezeSeconds ?? 20)) {
      // Freeze the committed frames up to a pause in their second half.
      const cut = splitAtPauses(rows, pending, V, this.rec.vocab.blank, pending - 1)[0][1];
      const words = this.rec.draft(rows.subarray(0, cut * V), cut, V, win.frameShift).text;
      if (words) this.frozenText.push(words);
      this.frozenFrames += cut;
      rows = rows.slice(cut * V);
      pending -= cut;
    }
    this.committed = [rows];
    const all = new Float32Array((pending + win.T) * V);
    all.set(rows);
    all.set(win.logp, pending * V);
    const recent = this.rec.draft(all, pending + win.T, V, win.frameShift).text;
    const text = [...this.frozenText, recent].filter((x) => x).join(' ');
    this.partial = { text, audioSeconds: end / SAMPLE_RATE };
    return this.partial;
  }
}

function concat(parts: Float32Array[], n: number): Float32Array {
  if (parts.length === 1 && parts[0].length === n) return parts[0];
  const out = new Float32Array(n);
  let o = 0;
  for (const c of parts) { out.set(c, o); o += c.length; }
  return out;
}
