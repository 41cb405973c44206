/**
 * A transcription lane of `adapt-asr worker`: a worker thread with its own recognizers (one per
 * model, adapter and decoding options, loaded on first use and kept, least recently used dropped past `keep`). It
 * transcribes a file and writes the result atomically; the main thread keeps the queue's locks
 * alive meanwhile. Separate threads let one worker process use every core: decoding is JavaScript,
 * and two lanes on one thread would take turns (bench/queue measured it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { formatTranscript, type OutputFormat } from '../pipeline/captions.js';
import { loadRecognizer, type Recognizer } from '../pipeline/recognizer.js';
import type { JobDecode } from './jobs.js';

export interface LaneSetup { threads: number; keep: number }
export interface LaneTask { id: number; model?: string; adapter?: string; decode?: JobDecode; audio: string; out: string; format: OutputFormat }
export type LaneReply = { id: number; ok: true; duration: number } | { id: number; ok: false; error: string };

const setup = workerData as LaneSetup;
const cache = new Map<string, Promise<Recognizer>>();

async function recognizer(model: string | undefined, adapter: string | undefined, decode: JobDecode = {}): Promise<Recognizer> {
  const key = JSON.stringify([model ?? '', adapter ?? '', decode]);
  let r = cache.get(key);
  if (r) {
    cache.delete(key); // to the back: most recently used
    cache.set(key, r);
    return r;
  }
  r = loadRecognizer({ model, adapter, threads: setup.threads, ...decode });
  cache.set(key, r);
  r.catch(() => cache.delete(key)); // a failed load is tried again by the next job
  while (cache.size > setup.keep) {
    const [oldKey, old] = cache.entries().next().value!;
    cache.delete(oldKey);
    void old.then((x) => x.release()).catch(() => undefined);
  }
  return r;
}

parentPort!.on('message', async (t: LaneTask) => {
  try {
    const rec = await recognizer(t.model, t.adapter, t.decode);
    const tr = await rec.transcribe(t.audio);
    writeFileAtomic(t.out, Buffer.from(formatTranscript(tr, t.format, t.audio)));
    parentPort!.postMessage({ id: t.id, ok: true, duration: tr.duration } satisfies LaneReply);
  } catch (err) {
    parentPort!.postMessage({ id: t.id, ok: false, error: describeError(err).message } satisfies LaneReply);
  }
});
