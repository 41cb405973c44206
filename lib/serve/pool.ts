/**
 * The server's workers: N recognizer threads (worker.ts), each running one job at a time, and a
 * bounded queue of jobs waiting for one. A job that outlives its time limit loses its worker: the
 * thread is terminated and a fresh one started, so a stuck decode cannot hold a slot for ever.
 */
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import type { Job, Reply, Served, WorkerSetup } from './protocol.js';

/** Raised when every worker is busy and the queue is full (HTTP 503). */
export class BusyError extends Error {}
/** Raised when a job outlives its time limit (HTTP 504). */
export class TimeoutError extends Error {}

/** A worker lent to one job (or one stream) until release(). */
export interface Lease {
  /** Send a message of the job; replies come to `onReply`. */
  post(job: Job, transfer?: ArrayBuffer[]): void;
  onReply: (r: Reply) => void;
  /** Give the worker back (kill: its job timed out or was abandoned; a fresh worker replaces it). */
  release(kill?: boolean): void;
}

interface Slot { worker: Worker; busy: boolean; lease?: Lease; /** Exited, or terminated by a lease. */ gone?: boolean }

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: { resolve: (l: Lease) => void; reject: (e: Error) => void }[] = [];
  private closed = false;
  served?: Served;

  private constructor(private readonly url: URL, private readonly setup: WorkerSetup, readonly size: number, readonly maxQueue: number, readonly heapMb: number) {}

  /**
   * Start `size` workers and wait until each has loaded the model and adapters. Each worker's
   * JavaScript heap is capped at `heapMb`: V8 then collects before the cap instead of letting every
   * worker's heap grow for as long as memory allows (the server's memory stays flat).
   */
  static async start(setup: WorkerSetup, size: number, maxQueue: number, heapMb: number): Promise<WorkerPool> {
    const pool = new WorkerPool(new URL('./worker.js', import.meta.url), setup, size, maxQueue, heapMb);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private spawn(): Promise<Slot> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.url, { workerData: this.setup, resourceLimits: { maxOldGenerationSizeMb: this.heapMb } });
      const slot: Slot = { worker, busy: false };
      let ready = false;
      worker.on('message', (r: Reply) => {
        if (r.type === 'ready') {
          ready = true;
          this.served = r.served;
          this.slots.push(slot);
          resolve(slot);
          this.next(slot);
        } else if (r.type === 'fatal') {
          reject(new Error(r.error));
          void worker.terminate();
        } else {
          slot.lease?.onReply(r);
        }
      });
      worker.on('error', (err: NodeJS.ErrnoException) => {
        if (ready) return; // its job fails when it exits
        reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new ConfigError(`a recognizer worker ran out of its ${this.heapMb} MB heap while loading the model; raise --worker-heap-mb`) : err);
      });
      worker.on('exit', () => {
        const i = this.slots.indexOf(slot);
        if (i >= 0) this.slots.splice(i, 1);
        if (slot.gone) return; // terminated by a lease, which started its replacement
        slot.gone = true;
        // A worker that died on its own: its job fails, and a fresh worker takes its place.
        slot.lease?.onReply({ type: 'failed', id: -1, status: 500, error: 'the recognizer worker stopped' });
        if (ready && !this.closed) void this.spawn().catch(() => undefined);
      });
    });
  }

  /** Work in flight and jobs waiting. */
  get load(): { busy: number; queued: number; workers: number } {
    return { busy: this.slots.filter((s) => s.busy).length, queued: this.waiting.length, workers: this.slots.length };
  }

  /** A free worker, now or when one frees up; BusyError at once when the queue is full. */
  acquire(): Promise<Lease> {
    if (this.closed) return Promise.reject(new BusyError('the server is shutting down'));
    const free = this.slots.find((s) => !s.busy);
    if (free) return Promise.resolve(this.lend(free));
    if (this.waiting.length >= this.maxQueue) return Promise.reject(new BusyError(`all ${this.size} workers are busy and ${this.waiting.length} requests wait`));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private lend(slot: Slot): Lease {
    slot.busy = true;
    let done = false;
    const lease: Lease = {
      post: (job, transfer) => slot.worker.postMessage(job, transfer),
      onReply: () => undefined,
      release: (kill = false) => {
        if (done) return;
        done = true;
        slot.lease = undefined;
        if (slot.gone) return;
        if (kill) {
          slot.gone = true;
          const i = this.slots.indexOf(slot);
          if (i >= 0) this.slots.splice(i, 1);
          void slot.worker.terminate();
          if (!this.closed) void this.spawn().catch(() => undefined);
          return;
        }
        slot.busy = false;
        this.next(slot);
      },
    };
    slot.lease = lease;
    return lease;
  }

  private next(slot: Slot): void {
    if (slot.busy || slot.gone) return;
    const w = this.waiting.shift();
    if (w) w.resolve(this.lend(slot));
  }

  /** Refuse new work, fail queued work, and wait for leases to end (at most `graceMs`), then stop the workers. */
  async close(graceMs = 30000): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new BusyError('the server is shutting down'));
    const t0 = Date.now();
    while (this.slots.some((s) => s.busy) && Date.now() - t0 < graceMs) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}
