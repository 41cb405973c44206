/**
 * An encoding worker thread (started by pool.ts): its own Encoder on one ONNX Runtime thread. It
 * reads an audio file, encodes it at each speed factor asked, and answers with the frames.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadAudio } from '../audio/index.js';
import { InputError } from '../errors.js';
import { Encoder } from './encoder.js';
import type { ModelDir } from './manifest.js';

export interface PoolJob { id: number; file: string; factors: number[]; output?: string }
export type PoolReply =
  | { id: number; seconds: number; outputs: { factor: number; frames: Float32Array; numFrames: number }[] }
  | { id: number; error: string; input: boolean };

const port = parentPort!;
const { model, memArena } = workerData as { model: ModelDir; memArena: boolean };
const encoder = Encoder.create(model, { threads: 1, verifyChecksum: false, memArena });

port.on('message', (job: PoolJob) => {
  void run(job).then(
    (r) => port.postMessage(r, r.outputs.map((o) => o.frames.buffer as ArrayBuffer)),
    (err: unknown) => port.postMessage({ id: job.id, error: (err as Error).message, input: err instanceof InputError } satisfies PoolReply),
  );
});

async function run(job: PoolJob): Promise<Extract<PoolReply, { outputs: unknown }>> {
  const enc = await encoder;
  const audio = loadAudio(job.file);
  const outputs = [];
  for (const f of job.factors) {
    const e = await enc.encode(f === 1 ? audio : { samples: audio.samples, sampleRate: Math.round(audio.sampleRate * f) }, job.output);
    outputs.push({ factor: f, frames: e.frames, numFrames: e.numFrames });
  }
  return { id: job.id, seconds: audio.samples.length / audio.sampleRate, outputs };
}
