/**
 * `adapt-asr worker`: takes jobs from the `transcribe` and `train` queues, on as many machines as
 * run it. BullMQ does the distribution, locks, retries and the recovery of jobs whose worker died
 * (a job whose lock is not renewed within `lockSeconds` is handed to another worker); this file
 * runs the jobs.
 *
 * - Transcriptions run on `concurrency` lanes, each a thread (lane.ts) that loads each model and
 *   adapter once and keeps it (at most `keepModels` per lane).
 * - Results are written to a temporary file and renamed: a retried job writes the same file again,
 *   never a second one, and a reader never sees half a file.
 * - A training run checkpoints after every epoch into its output folder; when its worker dies, the
 *   next worker to take the job resumes from there.
 * - close() (SIGTERM) stops taking jobs, finishes the transcriptions in hand, and hands a training
 *   run back to the queue after its last checkpoint.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker as Worker_ } from 'node:worker_threads';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeError, UsageError } from '../errors.js';
import { batchKey, checkRedisUrl, connectRedis, PREFIX, QUEUES, type QueueName } from './config.js';
import type { LaneReply, LaneSetup, LaneTask } from './lane.js';
import { parseTrainJob, parseTranscribeJob, Roots, type TrainProgress, type TranscribeJobData } from './jobs.js';
import type { TrainJobResult } from './submit.js';

/** Options of startQueueWorker (`adapt-asr worker`); only redis and the two roots are required. */
export interface QueueWorkerOptions {
  redis: string;
  /** Folder every input (audio, training data, adapters) must lie under. */
  dataRoot: string;
  /** Folder every output (results, adapters) must lie under. */
  outRoot: string;
  /** Queues to take jobs from (default both). */
  queues?: QueueName[];
  /** Transcriptions at once, each on its own thread with its own recognizers (default: the cores, at most 4). */
  concurrency?: number;
  /** A job whose worker has not renewed its lock for this long is given to another worker (default 30). */
  lockSeconds?: number;
  /** ONNX Runtime threads per recognizer (default: cores / concurrency). */
  threads?: number;
  /** Models (with their adapters) kept loaded per lane (default 4). */
  keepModels?: number;
  /** Name in logs and in `batch status` (default host:pid). */
  name?: string;
  /** One line per event (a JSON object for each job); default stderr. */
  log?: (line: string) => void;
}

type Resolved = Required<Omit<QueueWorkerOptions, 'threads'>> & { threads: number };

export function resolveWorkerOptions(o: QueueWorkerOptions): Resolved {
  const int = (name: string, v: number | undefined, dflt: number, lo: number, hi: number): number => {
    const x = v ?? dflt;
    if (!Number.isInteger(x) || x < lo || x > hi) throw new UsageError(`--${name} must be a whole number from ${lo} to ${hi}, got ${v}`);
    return x;
  };
  for (const [flag, dir] of [['--data-root', o.dataRoot], ['--out-root', o.outRoot]] as const) {
    if (!dir) throw new UsageError(`${flag} is required: jobs may name only files under it`);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${flag} ${dir} is not a folder`);
  }
  const queues = o.queues ?? [...QUEUES];
  for (const q of queues) if (!QUEUES.includes(q)) throw new UsageError(`--queues: unknown queue '${q}'; the queues are ${QUEUES.join(', ')}`);
  if (queues.length === 0) throw new UsageError('--queues names no queue');
  const concurrency = int('concurrency', o.concurrency, Math.min(4, os.availableParallelism()), 1, 64);
  const lockSeconds = o.lockSeconds ?? 30;
  if (!(lockSeconds >= 1 && lockSeconds <= 3600)) throw new UsageError(`--lock-seconds must be from 1 to 3600, got ${o.lockSeconds}`);
  return {
    redis: checkRedisUrl(o.redis), dataRoot: path.resolve(o.dataRoot), outRoot: path.resolve(o.outRoot), queues, concurrency, lockSeconds,
    threads: int('threads', o.threads, Math.max(1, Math.floor(os.availableParallelism() / concurrency)), 1, 256),
    keepModels: int('keep-models', o.keepModels, 4, 1, 64), name: o.name ?? `${os.hostname()}:${process.pid}`,
    log: o.log ?? ((line) => process.stderr.write(`${line}\n`)),
  };
}

/** A running worker. */
export interface QueueWorker {
  readonly name: string;
  /** Stop taking jobs; finish the transcriptions in hand, hand training runs back; close the connections. */
  close(): Promise<void>;
}

// Bookkeeping of a batch, each step idempotent, in one round trip. KEYS: batch, running, done, failed.
// The hashes take the batch's expiry. A batch whose bookkeeping has expired is left alone.
const LUA_START = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'started', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], math.max(1, redis.call('TTL', KEYS[1])))
return 1`;
const LUA_FINISH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
local target = KEYS[3]
if ARGV[4] == 'failed' then target = KEYS[4] end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 and redis.call('HEXISTS', KEYS[4], ARGV[1]) == 0 then
  redis.call('HSET', target, ARGV[1], ARGV[2])
  redis.call('EXPIRE', target, math.max(1, redis.call('TTL', KEYS[1])))
  if ARGV[4] == 'done' then redis.call('HINCRBYFLOAT', KEYS[1], 'audio', ARGV[3]) end
end
if redis.call('HLEN', KEYS[3]) + redis.call('HLEN', KEYS[4]) >= tonumber(redis.call('HGET', KEYS[1], 'total')) then
  redis.call('HSETNX', KEYS[1], 'finished', ARGV[5])
end
return 1`;

/** After the jobs in hand end, how long close() waits for Redis to record them. */
const CLOSE_GRACE_MS = 10000;

const keys = (batch: string): string[] => [batchKey(batch), batchKey(batch, 'running'), batchKey(batch, 'done'), batchKey(batch, 'failed')];

/** The batch bookkeeping on a connection: started(batch, n, worker) and finished(batch, n, result or error, audio seconds, 'done' | 'failed'). */
export function batchBook(redis: Redis): { started(batch: string, n: number, worker: string): Promise<number>; finished(batch: string, n: number, what: string, seconds: number, how: 'done' | 'failed'): Promise<number> } {
  redis.defineCommand('asrStart', { numberOfKeys: 4, lua: LUA_START });
  redis.defineCommand('asrFinish', { numberOfKeys: 4, lua: LUA_FINISH });
  const r = redis as Redis & { asrStart(...a: (string | number)[]): Promise<number>; asrFinish(...a: (string | number)[]): Promise<number> };
  return {
    started: (batch, n, worker) => r.asrStart(...keys(batch), String(n), worker, Date.now()),
    finished: (batch, n, what, seconds, how) => r.asrFinish(...keys(batch), String(n), what, seconds, how, Date.now()),
  };
}

/** A lane's worker thread (lane.ts), one task at a time; a thread that dies is replaced, its task failed. */
class ThreadLane {
  busy = false;
  private thread?: Worker_;
  private pending?: { id: number; resolve: (d: number) => void; reject: (e: Error) => void };
  private nextId = 0;
  constructor(private readonly setup: LaneSetup) {}

  private start(): Worker_ {
    const t = new Worker_(new URL('./lane.js', import.meta.url), { workerData: this.setup });
    t.on('message', (r: LaneReply) => {
      const p = this.pending;
      if (!p || p.id !== r.id) return;
      this.pending = undefined;
      if (r.ok) p.resolve(r.duration);
      else p.reject(new Error(r.error));
    });
    t.on('error', (err) => { this.pending?.reject(err); this.pending = undefined; });
    t.on('exit', () => {
      if (this.thread === t) this.thread = undefined;
      this.pending?.reject(new Error('the transcription thread stopped'));
      this.pending = undefined;
    });
    return t;
  }

  /** Transcribe and write the result; resolves to the audio's duration in seconds. */
  run(task: Omit<LaneTask, 'id'>): Promise<number> {
    this.thread ??= this.start();
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.thread!.postMessage({ ...task, id } satisfies LaneTask);
    });
  }

  async close(): Promise<void> {
    await this.thread?.terminate();
    this.thread = undefined;
  }
}

/** Start taking jobs. Resolves once connected (or retrying with backoff while Redis is down). */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const o = resolveWorkerOptions(options);
  const roots = new Roots(o.dataRoot, o.outRoot);
  const event = (e: Record<string, unknown>): void => o.log(JSON.stringify({ time: new Date().toISOString(), worker: o.name, ...e }));
  // A Redis outage makes every connection report every retry: each kind of message once a minute.
  const lastSaid = new Map<string, number>();
  const logLine = (line: string): void => {
    const key = line.replace(/[\d.]+/g, '#'), now = Date.now();
    if (now - (lastSaid.get(key) ?? -Infinity) < 60000) return;
    lastSaid.set(key, now);
    event({ event: 'log', message: line });
  };
  const book = connectRedis(o.redis, logLine);
  const bk = batchBook(book);
  const lanes = Array.from({ length: o.concurrency }, () => new ThreadLane({ threads: o.threads, keep: o.keepModels }));
  let closing = false, inHand = 0;
  const workers: Worker[] = [];
  const counted = <T>(p: Promise<T>): Promise<T> => { inHand++; return p.finally(() => { inHand--; }); };

  const transcribe = async (job: Job): Promise<{ out: string; seconds: number }> => {
    let d: TranscribeJobData;
    try {
      d = parseTranscribeJob(job.data);
      roots.check(d.audio, 'audio file', ['data']);
      roots.check(d.out, 'result file', ['out']);
      if (d.adapter) roots.check(d.adapter, 'adapter', ['data', 'out']);
      if (d.decode?.lm) roots.check(d.decode.lm, 'language model', ['data', 'out']);
    } catch (err) {
      const batch = (job.data as { batch?: unknown })?.batch, n = (job.data as { n?: unknown })?.n;
      if (typeof batch === 'string' && Number.isInteger(n)) await bk.finished(batch, n as number, describeError(err).message, 0, 'failed').catch(() => undefined);
      event({ event: 'failed', job: job.id, error: describeError(err).message });
      throw new UnrecoverableError(describeError(err).message);
    }
    const lane = lanes.find((l) => !l.busy)!;
    lane.busy = true;
    const t0 = performance.now();
    try {
      event({ event: 'start', job: job.id, audio: d.audio, attempt: job.attemptsStarted });
      await bk.started(d.batch, d.n, o.name);
      fs.mkdirSync(path.dirname(d.out), { recursive: true });
      roots.check(d.out, 'result file', ['out']); // again, now that its folder exists: a link made in between
      const duration = await lane.run({ model: d.model, adapter: d.adapter, decode: d.decode, audio: d.audio, out: d.out, format: d.format });
      await bk.finished(d.batch, d.n, d.out, duration, 'done');
      const sec = (performance.now() - t0) / 1000;
      event({ event: 'done', job: job.id, audio: d.audio, out: d.out, audioSec: +duration.toFixed(2), sec: +sec.toFixed(3), rtf: +(sec / Math.max(duration, 1e-3)).toFixed(4) });
      return { out: d.out, seconds: duration };
    } catch (err) {
      const message = describeError(err).message;
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      event({ event: last ? 'failed' : 'retry', job: job.id, audio: d.audio, attempt: job.attemptsMade + 1, error: message });
      if (last) await bk.finished(d.batch, d.n, message, 0, 'failed').catch(() => undefined);
      throw new Error(message);
    } finally {
      lane.busy = false;
    }
  };

  const train = async (job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<TrainJobResult> => {
    let opts;
    try {
      opts = parseTrainJob(job.data).options;
      roots.check(opts.out, 'adapter folder', ['out']);
      if (opts.data) roots.check(opts.data, 'training data', ['data']);
      if (opts.devData) roots.check(opts.devData, 'dev data', ['data']);
    } catch (err) {
      event({ event: 'failed', job: job.id, error: describeError(err).message });
      throw new UnrecoverableError(describeError(err).message);
    }
    const { trainAdapter } = await import('../train/trainer.js');
    const { partialDir } = await import('../train/epochs.js');
    const { loadAdapter } = await import('../adapter/io.js');
    const out = opts.out;
    const resume = fs.existsSync(path.join(partialDir(out), 'state.json'));
    const finished = fs.existsSync(path.join(out, 'adapter.json'));
    const summary = (seconds: number, resumedFrom: number): TrainJobResult => {
      const m = loadAdapter(out).meta!;
      return { out, accepted: m.dev.accepted, verdict: m.dev.verdict, bestEpoch: m.training.bestEpoch, epochs: m.training.epochs, seconds, resumedFrom };
    };
    if (!resume && finished && job.attemptsStarted > 1) {
      // A worker wrote the adapter and died before the queue heard: the job is done.
      event({ event: 'done', job: job.id, out, note: 'the adapter was already written by an earlier attempt' });
      return summary(0, 0);
    }
    let resumedFrom = 0;
    if (resume) {
      try {
        resumedFrom = (JSON.parse(fs.readFileSync(path.join(partialDir(out), 'state.json'), 'utf8')) as { history: unknown[] }).history.length;
      } catch { /* trainAdapter reports a broken checkpoint */ }
    }
    event({ event: 'start', job: job.id, out, attempt: job.attemptsStarted, ...(resume ? { resumeFromEpoch: resumedFrom } : {}) });
    const progress = (p: TrainProgress): void => { void job.updateProgress({ ...p, ...(resume ? { resumedFrom } : {}) } as object).catch(() => undefined); };
    const t0 = performance.now();
    try {
      await trainAdapter({
        ...opts, out, resume, force: resume ? false : opts.force ?? false, signal,
        onEncodeProgress: (i, n) => { if (i === n || i % 20 === 0) progress({ phase: 'encoding', done: i, total: n }); },
        onEpoch: (e) => {
          progress({ phase: 'epochs', epoch: e.epoch, member: e.member, devWer: e.devWer });
          event({ event: 'epoch', job: job.id, epoch: e.epoch, ...(e.member !== undefined ? { member: e.member } : {}), devWer: +e.devWer.toFixed(4), trainLoss: +e.trainLoss.toFixed(4) });
        },
        onLog: (line) => event({ event: 'log', job: job.id, message: line }),
      });
    } catch (err) {
      if (signal?.aborted) {
        if (closing && token) {
          // Shutting down: back to the queue; the next worker resumes from the last checkpoint.
          await job.moveToWait(token);
          event({ event: 'returned', job: job.id, note: 'shutting down; the run resumes from its last checkpoint on the next worker' });
          throw new WaitingError();
        }
        event({ event: 'abandoned', job: job.id, note: 'lock lost: another worker may have taken the job' });
        throw new Error('the worker lost the job\'s lock; it was stopped to leave the run to the worker that took it');
      }
      const message = describeError(err).message;
      event({ event: 'failed', job: job.id, error: message });
      // The caller's mistakes (a bad option, data that cannot train) will not pass on a second try.
      const usage = describeError(err).exitCode === 2;
      throw usage ? new UnrecoverableError(message) : new Error(message);
    }
    const r = summary((performance.now() - t0) / 1000, resumedFrom);
    event({ event: 'done', job: job.id, out, sec: +r.seconds.toFixed(1), accepted: r.accepted, ...(resume ? { resumedFrom } : {}) });
    return r;
  };

  const connection = connectRedis(o.redis, logLine);
  const common = { connection, prefix: PREFIX, lockDuration: o.lockSeconds * 1000, stalledInterval: o.lockSeconds * 1000, maxStalledCount: 2, autorun: false };
  for (const q of o.queues) {
    const w = q === 'transcribe'
      ? new Worker(q, (job: Job) => counted(transcribe(job)), { ...common, concurrency: o.concurrency })
      // Training takes every core: one run at a time. The processor takes the abort signal (its third
      // parameter), fired on shutdown and when the job's lock is lost.
      : new Worker(q, (job: Job, token?: string, signal?: AbortSignal) => counted(train(job, token, signal)), { ...common, concurrency: 1 });
    w.on('error', (err) => logLine(`queue ${q}: ${err.message}`));
    w.on('lockRenewalFailed', (ids) => { for (const id of ids) w.cancelJob(id, 'lock lost'); });
    workers.push(w);
    void w.run().catch((err: Error) => logLine(`queue ${q}: ${err.message}`));
  }
  event({ event: 'ready', queues: o.queues, concurrency: o.concurrency, threads: o.threads, dataRoot: roots.data, outRoot: roots.out, lockSeconds: o.lockSeconds });
  return {
    name: o.name,
    close: async () => {
      closing = true;
      for (const w of workers) w.cancelAllJobs('shutting down'); // only training runs listen
      const graceful = Promise.all(workers.map((w) => w.close()));
      // The jobs in hand end (a training run at its next epoch); then BullMQ has a while to record
      // them. With Redis down it never could: close anyway, and the jobs go to another worker later.
      while (inHand > 0) await new Promise((r) => setTimeout(r, 50));
      const recorded = await Promise.race([graceful.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), CLOSE_GRACE_MS).unref())]);
      if (!recorded) {
        event({ event: 'log', message: `Redis did not confirm the last jobs within ${CLOSE_GRACE_MS / 1000} s; closing anyway (a job not recorded goes to another worker when its lock expires)` });
        await Promise.race([Promise.all(workers.map((w) => w.close(true).catch(() => undefined))), new Promise((r) => setTimeout(r, 2000).unref())]);
      }
      for (const l of lanes) await l.close();
      connection.disconnect();
      book.disconnect();
      event({ event: 'stopped' });
    },
  };
}
