/**
 * The submitting side: put a batch of files (or a training run) on the queues, and read back how it
 * goes. Nothing here loads a model; a laptop can submit to workers elsewhere.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { lines, readJsonl, readTsv, wavFilesIn } from '../data/manifest.js';
import { AdaptAsrError, InputError, UsageError } from '../errors.js';
import type { OutputFormat } from '../pipeline/captions.js';
import { batchKey, KEEP_DAYS, openRedis, PREFIX, type QueueName } from './config.js';
import { EXTENSIONS, FORMATS, JOB_VERSION, type JobDecode, type TrainJobData, type TrainJobOptions, type TrainProgress, type TranscribeJobData } from './jobs.js';

/** Options of submitBatch (`adapt-asr batch submit`). */
export interface SubmitOptions {
  redis: string;
  /** WAV files, folders of WAVs, or manifests: a .jsonl (audio_filepath), a .tsv (file<TAB>text) or a text file of paths, one per line; relative paths are relative to the manifest. */
  inputs: string[];
  /** Folder for the results, one file per input: <name>.<txt|json|srt|vtt>. */
  out: string;
  format?: OutputFormat;
  model?: string;
  /** An adapter folder. */
  adapter?: string;
  /** Tries per file before it is marked failed (default 3; 1 s, then 2 s, ... between them). */
  attempts?: number;
  /** Decoding options, as transcribe's (an LM path must lie under the workers' roots). */
  decode?: JobDecode;
}

export interface Submitted { id: string; total: number; out: string }

const DEFAULT_ATTEMPTS = 3;

/** The audio files named by `inputs`, absolute, in order. */
export function listAudio(inputs: string[]): string[] {
  if (inputs.length === 0) throw new UsageError('name the audio: WAV files, folders of WAVs, or a manifest');
  const out: string[] = [];
  for (const p of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new InputError('no such file or folder', p);
    }
    if (st.isDirectory()) {
      const wavs = wavFilesIn(path.resolve(p));
      if (wavs.length === 0) throw new InputError('folder has no .wav files', p);
      out.push(...wavs);
    } else if (/\.wav$/i.test(p)) {
      out.push(path.resolve(p));
    } else {
      out.push(...readManifest(p));
    }
  }
  return out;
}

/** The audio a manifest names: a .jsonl (audio_filepath), a .tsv (file<TAB>text), or one path per line; relative to the manifest. */
function readManifest(file: string): string[] {
  let out: string[];
  if (/\.jsonl$/i.test(file)) out = readJsonl(file, { textOptional: true }).map((u) => u.audio);
  else if (/\.tsv$/i.test(file)) out = readTsv(file).map((u) => u.audio);
  else out = lines(file).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => path.resolve(path.dirname(file), l));
  if (out.length === 0) throw new InputError('manifest names no audio files (a .jsonl with audio_filepath, a .tsv, or one path per line)', file);
  return out;
}

/** Result file of each input: <out>/<name>.<ext>; two inputs with one name are refused. */
export function resultFiles(audio: string[], out: string, format: OutputFormat): string[] {
  const seen = new Map<string, string>();
  return audio.map((a) => {
    const name = `${path.basename(a).replace(/\.[^.]+$/, '')}.${EXTENSIONS[format]}`;
    const other = seen.get(name);
    if (other !== undefined) throw new UsageError(`${other} and ${a} would both write ${name}; rename one or submit them as two batches`);
    seen.set(name, a);
    return path.join(out, name);
  });
}

function queueOf(redis: Redis, name: QueueName): Queue {
  return new Queue(name, { connection: redis, prefix: PREFIX });
}

function checkAttempts(n: number | undefined): number {
  const a = n ?? DEFAULT_ATTEMPTS;
  if (!Number.isInteger(a) || a < 1 || a > 20) throw new UsageError(`--attempts must be a whole number from 1 to 20, got ${n}`);
  return a;
}

/** Put one job per audio file on the `transcribe` queue; returns at once with the batch id. */
export async function submitBatch(o: SubmitOptions): Promise<Submitted> {
  const format = o.format ?? 'text';
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const attempts = checkAttempts(o.attempts);
  const audio = listAudio(o.inputs);
  const out = path.resolve(o.out);
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new UsageError(`--out must be a folder, but ${o.out} is a file`);
  const results = resultFiles(audio, out, format);
  let adapter: string | undefined;
  if (o.adapter !== undefined) {
    adapter = path.resolve(o.adapter);
    if (!fs.existsSync(path.join(adapter, 'adapter.json'))) throw new UsageError(`${o.adapter} is not an adapter folder (no adapter.json)`);
  }
  const decode = o.decode && Object.keys(o.decode).length ? { ...o.decode, ...(o.decode.lm ? { lm: path.resolve(o.decode.lm) } : {}) } : undefined;
  if (decode?.lm && !fs.existsSync(decode.lm)) throw new InputError('no such language model', o.decode!.lm);
  const redis = await openRedis(o.redis);
  const q = queueOf(redis, 'transcribe');
  try {
    const id = crypto.randomBytes(5).toString('hex');
    const ttl = KEEP_DAYS * 86400;
    const m = redis.multi();
    m.hset(batchKey(id), { total: audio.length, queue: 'transcribe', format, out, created: Date.now(), audio: 0 });
    for (let i = 0; i < audio.length; i += 1000) {
      const chunk: Record<string, string> = {};
      for (let n = i; n < Math.min(audio.length, i + 1000); n++) chunk[n] = audio[n];
      m.hset(batchKey(id, 'files'), chunk);
    }
    // The done, failed and running hashes take the batch's expiry when the workers first write them.
    m.expire(batchKey(id), ttl).expire(batchKey(id, 'files'), ttl);
    await m.exec();
    const opts: JobsOptions = { attempts, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: { age: ttl } };
    for (let i = 0; i < audio.length; i += 500) {
      await q.addBulk(audio.slice(i, i + 500).map((a, k) => {
        const n = i + k;
        const data: TranscribeJobData = { v: JOB_VERSION, batch: id, n, audio: a, out: results[n], format, ...(o.model ? { model: o.model } : {}), ...(adapter ? { adapter } : {}), ...(decode ? { decode } : {}) };
        return { name: 'transcribe', data, opts: { ...opts, jobId: `${id}-${n}` } };
      }));
    }
    return { id, total: audio.length, out };
  } finally {
    await q.close();
    redis.disconnect();
  }
}

/** A batch's progress: counts by state, speed and ETA (`batch status`). */
export interface BatchStatus {
  id: string;
  total: number;
  done: number;
  failed: number;
  /** Taken by a worker and not finished (a killed worker's job counts until another takes it). */
  running: number;
  waiting: number;
  /** Seconds of audio transcribed. */
  audioSeconds: number;
  /** Since the first job started (to the last one's end once finished). */
  elapsedSec: number;
  filesPerMinute: number;
  /** Seconds of audio per second of wall time. */
  speed: number;
  /** Seconds to go at the rate so far (undefined before the first result). */
  etaSec?: number;
  finished: boolean;
  out: string;
  format: string;
}

/** Where a batch stands; throws when Redis holds no such batch. */
export async function batchStatus(redisUrl: string, id: string): Promise<BatchStatus> {
  checkBatchId(id);
  const redis = await openRedis(redisUrl);
  try {
    return await readStatus(redis, id);
  } finally {
    redis.disconnect();
  }
}

function checkBatchId(id: string): void {
  if (!/^[0-9a-f]{10}$/.test(id)) throw new UsageError(`'${id}' is not a batch id (10 hex digits, as \`batch submit\` printed)`);
}

async function readStatus(redis: Redis, id: string): Promise<BatchStatus> {
  const [[, h], [, done], [, failed], [, running]] = (await redis.multi().hgetall(batchKey(id)).hlen(batchKey(id, 'done')).hlen(batchKey(id, 'failed')).hlen(batchKey(id, 'running')).exec())! as [unknown, unknown][];
  const b = h as Record<string, string>;
  if (!b || b.total === undefined) throw new AdaptAsrError(`no batch '${id}' in this Redis (batches are kept ${KEEP_DAYS} days)`);
  const total = Number(b.total), d = done as number, f = failed as number;
  const r = Math.min(running as number, total - d - f);
  const started = b.started ? Number(b.started) : undefined;
  const end = b.finished ? Number(b.finished) : Date.now();
  const elapsedSec = started ? Math.max(0, (end - started) / 1000) : 0;
  const audioSeconds = Number(b.audio ?? 0);
  const rate = elapsedSec > 0 ? (d + f) / elapsedSec : 0;
  const finished = d + f >= total;
  return {
    id, total, done: d, failed: f, running: r, waiting: total - d - f - r, audioSeconds, elapsedSec,
    filesPerMinute: 60 * rate, speed: elapsedSec > 0 ? audioSeconds / elapsedSec : 0,
    etaSec: finished ? 0 : rate > 0 ? (total - d - f) / rate : undefined, finished, out: b.out, format: b.format,
  };
}

/** A batch's files by outcome: result files, one-line errors, and those still to do. */
export interface BatchResults { ok: { audio: string; result: string }[]; failed: { audio: string; error: string }[]; pending: string[] }

/** The result file or error of every file of a batch, in submission order (`batch results`). */
export async function batchResults(redisUrl: string, id: string): Promise<BatchResults> {
  checkBatchId(id);
  const redis = await openRedis(redisUrl);
  try {
    const [[, files], [, done], [, failed]] = (await redis.multi().hgetall(batchKey(id, 'files')).hgetall(batchKey(id, 'done')).hgetall(batchKey(id, 'failed')).exec())! as [unknown, Record<string, string>][];
    const total = Object.keys(files).length;
    if (total === 0) throw new AdaptAsrError(`no batch '${id}' in this Redis (batches are kept ${KEEP_DAYS} days)`);
    const out: BatchResults = { ok: [], failed: [], pending: [] };
    for (let n = 0; n < total; n++) {
      const audio = files[n];
      if (done[n] !== undefined) out.ok.push({ audio, result: done[n] });
      else if (failed[n] !== undefined) out.failed.push({ audio, error: failed[n] });
      else out.pending.push(audio);
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Put a training run on the `train` queue; a worker runs it and writes the adapter to options.out. */
export async function submitTraining(redisUrl: string, options: TrainJobOptions): Promise<{ id: string }> {
  const redis = await openRedis(redisUrl);
  const q = queueOf(redis, 'train');
  try {
    const id = `train-${crypto.randomBytes(5).toString('hex')}`;
    const data: TrainJobData = { v: JOB_VERSION, options };
    // Killed workers are the case this queue exists for: let a run stall more than once before BullMQ gives up.
    await q.add('train', data, { jobId: id, attempts: 2, backoff: { type: 'fixed', delay: 5000 }, removeOnComplete: { age: KEEP_DAYS * 86400 }, removeOnFail: { age: KEEP_DAYS * 86400 } });
    return { id };
  } finally {
    await q.close();
    redis.disconnect();
  }
}

/** A training job's state (BullMQ's), its last progress report, and its result or error. */
export interface TrainStatus { id: string; state: string; progress?: TrainProgress; result?: TrainJobResult; error?: string; attempts: number }

/** What a finished train job returns. */
export interface TrainJobResult { out: string; accepted: boolean; verdict: string; bestEpoch: number; epochs: number; seconds: number; resumedFrom: number }

/** Where a training job (`train --queue`) stands. */
export async function trainStatus(redisUrl: string, id: string): Promise<TrainStatus> {
  if (!/^train-[0-9a-f]{10}$/.test(id)) throw new UsageError(`'${id}' is not a training job id (train-<10 hex digits>, as \`train --queue\` printed)`);
  const redis = await openRedis(redisUrl);
  const q = queueOf(redis, 'train');
  try {
    const job = await q.getJob(id);
    if (!job) throw new AdaptAsrError(`no training job '${id}' in this Redis (kept ${KEEP_DAYS} days)`);
    const state = await job.getState();
    const progress = typeof job.progress === 'object' ? (job.progress as unknown as TrainProgress) : undefined;
    return { id, state, progress, result: job.returnvalue ?? undefined, error: job.failedReason || undefined, attempts: job.attemptsStarted };
  } finally {
    await q.close();
    redis.disconnect();
  }
}
