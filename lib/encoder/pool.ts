/**
 * Encoding many files on every core: a FileEncoder reads an audio file and encodes it at one or
 * more speed factors (speed perturbation: the sample rate relabelled before resampling).
 *   - EncoderPool: one worker thread per core, each with its own Encoder on one ONNX Runtime
 *     thread (ONNX Runtime's Node binding runs a session on the calling thread, so concurrency
 *     needs threads; one intra-op thread per worker scales better on small encoders than one
 *     session with several).
 *   - localFileEncoder: the same on an Encoder in this thread.
 * Unreadable audio rejects with an InputError naming the file.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { loadAudio } from '../audio/index.js';
import { InputError, ModelError } from '../errors.js';
import type { Encoder } from './encoder.js';
import type { ModelDir } from './manifest.js';

/** One file encoded: its duration and the frames at each factor asked. */
export interface FileEncoding { seconds: number; outputs: { factor: number; frames: Float32Array; numFrames: number }[] }

/** A job for an encoding worker (pool-worker.ts), and its answer. */
export interface PoolJob { id: number; file: string; factors: number[]; output?: string }
export type PoolReply = ({ id: number } & FileEncoding) | { id: number; error: string; input: boolean };

export interface FileEncoder {
  /** Frames of `file` at each factor (1 = as recorded), from `output` (default the encoder output). */
  encodeFile(file: string, factors: number[], output?: string): Promise<FileEncoding>;
  release(): Promise<void>;
}

/** An Encoder in this thread as a FileEncoder (release() leaves the Encoder to its owner). */
export function localFileEncoder(encoder: Encoder): FileEncoder {
  return {
    async encodeFile(file, factors, output) {
      const audio = loadAudio(file);
      const outputs = [];
      for (const f of factors) {
        const e = await encoder.encode(f === 1 ? audio : { samples: audio.samples, sampleRate: Math.round(audio.sampleRate * f) }, output);
        outputs.push({ factor: f, frames: e.frames, numFrames: e.numFrames });
      }
      return { seconds: audio.samples.length / audio.sampleRate, outputs };
    },
    async release() {},
  };
}

/** Worker threads encoding files in parallel, each job to the first free worker. */
export class EncoderPool implements FileEncoder {
  private readonly idle: Worker[] = [];
  private readonly queue: { job: PoolJob; resolve: (r: FileEncoding) => void; reject: (e: Error) => void }[] = [];
  private readonly waiting = new Map<number, { worker: Worker; resolve: (r: FileEncoding) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on('message', (r: PoolReply) => this.done(w, r));
      const fail = (err: Error): void => {
        this.failure ??= new ModelError(`encoding worker failed: ${err.message}`);
        for (const [id, p] of this.waiting) if (p.worker === w) { this.waiting.delete(id); p.reject(this.failure); }
        for (const q of this.queue.splice(0)) q.reject(this.failure);
      };
      w.on('error', fail);
      w.on('exit', (code) => { if (code !== 0) fail(new Error(`exit code ${code}`)); });
      this.idle.push(w);
    }
  }

  /**
   * Start `workers` threads (default: one per core) encoding with the model (its checksum already
   * verified by the caller: see Encoder.verify). `memArena`: ONNX Runtime's memory arena in each
   * worker (default true: measured on base-en-real, off encodes 2.3x slower and peaks higher).
   */
  static create(model: ModelDir, workers = os.cpus().length, memArena = true): EncoderPool {
    const url = new URL('./pool-worker.js', import.meta.url);
    return new EncoderPool(Array.from({ length: Math.max(1, workers) }, () => new Worker(url, { workerData: { model, memArena } })));
  }

  get size(): number { return this.workers.length; }

  encodeFile(file: string, factors: number[], output?: string): Promise<FileEncoding> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, file, factors, output }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!, q = this.queue.shift()!;
      this.waiting.set(q.job.id, { worker: w, resolve: q.resolve, reject: q.reject });
      w.postMessage(q.job);
    }
  }

  private done(w: Worker, r: PoolReply): void {
    const p = this.waiting.get(r.id);
    this.waiting.delete(r.id);
    this.idle.push(w);
    if (p) {
      if ('error' in r) p.reject(r.input ? new InputError(r.error) : new ModelError(r.error));
      else p.resolve({ seconds: r.seconds, outputs: r.outputs });
    }
    this.pump();
  }

  async release(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
