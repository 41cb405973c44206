/**
 * A recognizer worker thread of `adapt-asr serve`: loads the model and every adapter once, then
 * runs one job at a time (a transcription, or a stream's chunks) so that the server's event loop
 * stays free while ONNX Runtime and the decoder work.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeWav } from '../audio/index.js';
import { ConfigError, describeError, InputError, UsageError } from '../errors.js';
import { formatTranscript } from '../pipeline/captions.js';
import { loadRecognizer, type Recognizer } from '../pipeline/recognizer.js';
import type { RecognitionStream } from '../pipeline/stream.js';
import type { Job, Reply, Served, WorkerSetup } from './protocol.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const send = (r: Reply): void => port.postMessage(r);

async function start(): Promise<void> {
  const base = await loadRecognizer({ model: setup.model, modelsDir: setup.modelsDir, threads: 1 });
  const byName = new Map<string, Recognizer>();
  for (const [name, dir] of Object.entries(setup.adapters)) byName.set(name, await loadRecognizer({ model: setup.model, modelsDir: setup.modelsDir, adapter: dir, threads: 1 }));
  const m = base.encoder.manifest;
  const served: Served = {
    model: { name: m.name, modelVersion: m.modelVersion, description: m.description },
    adapters: [...byName].map(([name, r]) => {
      const meta = r.adapter!.meta!;
      return { name, accent: meta.accent, base: `${r.encoder.manifest.name} ${r.encoder.manifest.modelVersion}`, method: meta.method, members: r.adapter!.weights.length, accepted: meta.dev.accepted, verdict: meta.dev.verdict };
    }),
  };
  const pick = (adapter?: string): Recognizer => {
    if (adapter === undefined || adapter === '') return base;
    const r = byName.get(adapter);
    if (!r) throw new UsageError(`unknown adapter '${adapter}'; GET /v1/models lists the adapters served`);
    return r;
  };
  const streams = new Map<number, RecognitionStream>();
  const fail = (id: number, err: unknown): void => {
    // The caller's mistakes (unreadable audio, an unknown adapter, bad options) are 400; the rest 500.
    const mine = err instanceof InputError || err instanceof UsageError || err instanceof ConfigError;
    send({ type: 'failed', id, status: mine ? 400 : 500, error: describeError(err).message });
  };
  port.on('message', async (job: Job) => {
    try {
      if (job.type === 'transcribe') {
        const t = await pick(job.adapter).transcribe(decodeWav(job.wav));
        send({ type: 'done', id: job.id, transcript: t, body: formatTranscript(t, job.format) });
      } else if (job.type === 'stream-open') {
        streams.set(job.id, pick(job.adapter).createStream({ sampleRate: job.sampleRate }));
      } else if (job.type === 'stream-chunk') {
        const s = streams.get(job.id);
        if (!s) return;
        const p = await s.acceptWaveform(job.samples);
        if (p) send({ type: 'partial', id: job.id, text: p.text, audioSeconds: p.audioSeconds });
      } else if (job.type === 'stream-end') {
        const s = streams.get(job.id);
        streams.delete(job.id);
        if (s && !job.drop) send({ type: 'final', id: job.id, transcript: await s.finish() });
      }
    } catch (err) {
      streams.delete(job.id);
      fail(job.id, err);
    }
  });
  send({ type: 'ready', served });
}

start().catch((err) => send({ type: 'fatal', error: describeError(err).message }));
