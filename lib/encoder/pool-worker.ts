/**
 * An encoding worker thread (started by pool.ts): its own Encoder on one ONNX Runtime thread. It
 * reads an audio file, encodes it at each speed factor asked, and answers with the frames.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { Encoder } from './encoder.js';
import type { ModelDir } from './manifest.js';
import { localFileEncoder, type FileEncoding, type PoolJob, type PoolReply } from './pool.js';

const port = parentPort!;
const { model, memArena } = workerData as { model: ModelDir; memArena: boolean };
const encoder = Encoder.create(model, { threads: 1, verifyChecksum: false, memArena }).then(localFileEncoder);

port.on('message', (job: PoolJob) => {
  void run(job).then(
    (r) => port.postMessage(r, r.outputs.map((o) => o.frames.buffer as ArrayBuffer)),
    (err: unknown) => port.postMessage({ id: job.id, error: (err as Error).message, input: err instanceof InputError } satisfies PoolReply),
  );
});

async function run(job: PoolJob): Promise<{ id: number } & FileEncoding> {
  return { id: job.id, ...(await (await encoder).encodeFile(job.file, job.factors, job.output)) };
}
