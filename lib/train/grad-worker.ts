/**
 * A gradient worker thread (started by grad-pool.ts): a replica of the adapter in its own
 * TensorFlow.js, which takes the current weights and a shard of the batch and answers with the
 * shard's loss and gradients. It keeps no optimizer state: the main thread applies every update.
 */
import { parentPort } from 'node:worker_threads';
import type { AdapterWeights } from '../adapter/math.js';
import { AdapterModel } from './adapter-model.js';
import { initTraining } from './backend.js';
import { shardGradients, type Shard, type StepConfig } from './shard.js';

/** Messages to the worker. */
export type ToWorker =
  | { type: 'init'; weights: AdapterWeights; config: StepConfig }
  | { type: 'step'; values: Record<string, Float32Array>; shard: Shard };
/** Messages from the worker. */
export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'grads'; loss: number; grads: Record<string, Float32Array> }
  | { type: 'error'; message: string };

const port = parentPort!;
let model: AdapterModel | undefined;
let config: StepConfig | undefined;
const rt = initTraining();

port.on('message', (m: ToWorker) => {
  void handle(m).catch((err: unknown) => port.postMessage({ type: 'error', message: (err as Error).message } satisfies FromWorker));
});

async function handle(m: ToWorker): Promise<void> {
  const { tf, backend } = await rt;
  if (m.type === 'init') {
    model?.dispose();
    model = new AdapterModel(tf, m.weights);
    config = m.config;
    port.postMessage({ type: 'ready', backend } satisfies FromWorker);
    return;
  }
  if (!model || !config) throw new Error('gradient worker: step before init');
  model.load(m.values);
  const { loss, grads } = shardGradients(tf, model, m.shard, config);
  const out: Record<string, Float32Array> = {};
  for (const [k, g] of Object.entries(grads)) out[k] = g.dataSync() as Float32Array;
  tf.dispose(Object.values(grads));
  port.postMessage({ type: 'grads', loss, grads: out } satisfies FromWorker, Object.values(out).map((a) => a.buffer as ArrayBuffer));
}
