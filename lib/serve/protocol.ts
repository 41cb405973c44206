/** Messages between the server (main thread) and its recognizer workers (worker.ts). */
import type { OutputFormat } from '../pipeline/captions.js';
import type { Transcript } from '../pipeline/types.js';

/** What each worker loads: the model, and the adapters by the name requests use. */
export interface WorkerSetup {
  model?: string;
  modelsDir?: string;
  adapters: Record<string, string>;
  /** Longest audio a stream may send, in seconds. */
  maxAudioSeconds: number;
}

/** A description of what the server offers (GET /v1/models). */
export interface Served {
  model: { name: string; modelVersion: string; description: string };
  adapters: { name: string; accent: string; /** The model it adapts. */ base: string; method: string; members: number; accepted: boolean; verdict: string }[];
}

export type Job =
  | { type: 'transcribe'; id: number; wav: Uint8Array; adapter?: string; format: OutputFormat }
  | { type: 'stream-open'; id: number; adapter?: string; sampleRate: number }
  | { type: 'stream-chunk'; id: number; samples: Float32Array }
  /** The client is done: the final result (or, with `drop`, nothing: the client went away). */
  | { type: 'stream-end'; id: number; drop?: boolean };

export type Reply =
  | { type: 'ready'; served: Served }
  | { type: 'fatal'; error: string }
  | { type: 'done'; id: number; transcript: Transcript; body: string }
  | { type: 'partial'; id: number; text: string; audioSeconds: number }
  | { type: 'final'; id: number; transcript: Transcript }
  /** `status` 400 for the caller's mistakes (bad audio), 500 otherwise. */
  | { type: 'failed'; id: number; status: number; error: string };
