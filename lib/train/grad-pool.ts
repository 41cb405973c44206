/**
 * Data-parallel gradient steps on several cores. A batch is cut into shards; the main thread
 * computes the first shard's gradients while worker threads (grad-worker.ts, each with its own
 * TensorFlow.js) compute the others from the same weights. The shards' losses are weighted by
 * their share of the batch, so the summed gradients are those of the whole batch, and the main
 * thread applies them as before: clipping, Adam and weight decay see exactly one gradient per step.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type * as TF from '@tensorflow/tfjs';
import type { AdapterWeights } from '../adapter/math.js';
import type { AdapterModel } from './adapter-model.js';
import type { FromWorker, ToWorker } from './grad-worker.js';
import { shardGradients, trainedKeys, type Shard, type StepConfig } from './shard.js';

/** Most shards a step is cut into: beyond this, shards of a 3,000-frame batch get too small to pay for the exchange. */
export const MAX_SHARDS = 4;

/** Shards per step by default: one per core, up to MAX_SHARDS. */
export const defaultShards = (threads?: number): number => Math.max(1, Math.min(MAX_SHARDS, threads ?? os.cpus().length));

interface Pending { resolve: (m: FromWorker) => void; reject: (e: Error) => void }

class WorkerLink {
  private pending: Pending | undefined;
  failed: Error | undefined;
  constructor(readonly worker: Worker) {
    worker.on('message', (m: FromWorker) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (m.type === 'error') p.reject(new Error(`gradient worker: ${m.message}`));
      else p.resolve(m);
    });
    const fail = (err: Error): void => {
      this.failed = err;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => { if (code !== 0) fail(new Error(`gradient worker exited with code ${code}`)); });
  }

  request(m: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(m, transfer);
    });
  }
}

export class GradPool {
  private constructor(private readonly links: WorkerLink[], private readonly config: StepConfig) {}

  /** Shards per step: the main thread's and one per worker. */
  get shards(): number { return this.links.length + 1; }

  /**
   * Start `shards - 1` workers with a model's weights (its shape: every step sends the current values). Returns undefined (the caller trains on the
   * main thread alone) for one shard; throws if a worker cannot start.
   */
  static async start(shards: number, weights: AdapterWeights, config: StepConfig): Promise<GradPool | undefined> {
    if (shards <= 1) return undefined;
    const url = new URL('./grad-worker.js', import.meta.url);
    const links = Array.from({ length: shards - 1 }, () => new WorkerLink(new Worker(url)));
    const pool = new GradPool(links, config);
    try {
      await Promise.all(links.map((l) => l.request({ type: 'init', weights, config })));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /**
   * Loss and gradients of a batch cut into shards (at most `shards`): shards[0] on this thread, the
   * rest on the workers, all from `model`'s current weights. Gradients keyed by variable name, as
   * tf.variableGrads gives them; the caller disposes them.
   */
  async gradients(tf: typeof TF, model: AdapterModel, shards: Shard[]): Promise<{ loss: number; grads: Record<string, TF.Tensor> }> {
    const keys = trainedKeys(model, this.config.trainHead);
    const values = model.values(keys); // every step: the workers keep no state of their own
    // A shard in shared memory (see ShardBuffers) is read in place; one in its own buffer is handed over.
    const asked = shards.slice(1).map((shard, i) => this.links[i].request({ type: 'step', values, shard }, shard.x.buffer instanceof SharedArrayBuffer ? [] : [shard.x.buffer as ArrayBuffer]));
    let mine: { loss: number; grads: Record<string, TF.Tensor> };
    try {
      mine = shardGradients(tf, model, shards[0], this.config);
    } catch (err) {
      await Promise.allSettled(asked);
      throw err;
    }
    const theirs = await Promise.allSettled(asked);
    let loss = mine.loss;
    const sums: Record<string, TF.Tensor> = { ...mine.grads };
    try {
      for (const t of theirs) {
        if (t.status === 'rejected') throw t.reason;
        const m = t.value as Extract<FromWorker, { type: 'grads' }>;
        loss += m.loss;
        for (const k of keys) {
          const old = sums[k];
          sums[k] = tf.tidy(() => tf.add(old, tf.tensor(m.grads[k], old.shape)));
          old.dispose();
        }
      }
    } catch (err) {
      tf.dispose(Object.values(sums));
      throw err;
    }
    // Keyed by variable name, as the optimizer wants them.
    return { loss, grads: Object.fromEntries(keys.map((k) => [model.vars[k].name, sums[k]])) };
  }

  async close(): Promise<void> {
    await Promise.all(this.links.map((l) => l.worker.terminate()));
  }
}

/**
 * Reused input buffers for the shards of each step, so that steps allocate nothing: shard 0 (this
 * thread) in ordinary memory, the workers' shards in shared memory they read in place. A buffer is
 * rewritten only after the step that read it has answered.
 */
export class ShardBuffers {
  private readonly bufs: Float32Array[] = [];

  /** A zeroed view of `length` floats for shard s. */
  get(s: number, length: number): Float32Array {
    let b = this.bufs[s];
    if (!b || b.length < length) {
      const n = Math.ceil(length * 1.25);
      b = this.bufs[s] = s === 0 ? new Float32Array(n) : new Float32Array(new SharedArrayBuffer(n * 4));
    }
    const v = b.subarray(0, length);
    v.fill(0);
    return v;
  }
}

/** Single-thread gradients (no pool), keyed by variable name. */
export function localGradients(tf: typeof TF, model: AdapterModel, shard: Shard, config: StepConfig): { loss: number; grads: Record<string, TF.Tensor> } {
  const r = shardGradients(tf, model, shard, config);
  return { loss: r.loss, grads: Object.fromEntries(Object.entries(r.grads).map(([k, g]) => [model.vars[k].name, g])) };
}
