/**
 * Batch jobs on BullMQ and Redis: names, keys, the Redis connection, and the options of the queue
 * commands, filled and validated here.
 *
 * Queues (BullMQ key prefix `adapt-asr`):
 *   transcribe   one job per audio file, id `<batch>-<n>`
 *   train        one job per adapter, id `train-<id>`
 * A batch keeps its own bookkeeping beside BullMQ's (written by the workers, each write idempotent):
 *   adapt-asr:batch:<id>           hash: total, queue, format, out, created, started, finished, audio, busy
 *   adapt-asr:batch:<id>:files     hash n -> audio file
 *   adapt-asr:batch:<id>:done      hash n -> result file
 *   adapt-asr:batch:<id>:failed    hash n -> one-line error
 *   adapt-asr:batch:<id>:running   hash n -> worker name (a killed worker's entry stays until the job is taken again)
 */
import { Redis, type RedisOptions } from 'ioredis';
import { AdaptAsrError, UsageError } from '../errors.js';

export const PREFIX = 'adapt-asr';
export const QUEUES = ['transcribe', 'train'] as const;
export type QueueName = (typeof QUEUES)[number];

/** Days a batch's bookkeeping, and a failed job, stay in Redis after submission. */
export const KEEP_DAYS = 7;

export const batchKey = (id: string, part?: 'files' | 'done' | 'failed' | 'running'): string => `${PREFIX}:batch:${id}${part ? `:${part}` : ''}`;

/** Check a Redis URL (redis:// or rediss://) and return it. */
export function checkRedisUrl(url: string | undefined, flag = '--redis'): string {
  if (url === undefined || url === '') throw new UsageError(`${flag} is required: the Redis server that holds the queues, e.g. redis://127.0.0.1:6379`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${flag}: '${url}' is not a URL; expected redis://host:port`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`${flag}: '${url}' is not a redis:// or rediss:// URL`);
  return url;
}

/** Delay before reconnection attempt `n` (1, 2, ...): doubling from 0.2 s up to 10 s, with jitter. */
export function backoffMs(n: number, random = Math.random): number {
  return Math.round(Math.min(10000, 200 * 2 ** Math.min(n - 1, 6)) * (0.75 + 0.5 * random()));
}

/**
 * A Redis connection that retries for ever with backoff (BullMQ's workers need
 * maxRetriesPerRequest: null) and logs each loss and recovery once, never a flood.
 * @param log one line per event; omit to stay quiet
 * @param failFast give up after `failFast` attempts (the submitting commands: a typo in --redis must not hang)
 */
export function connectRedis(url: string, log?: (line: string) => void, failFast?: number): Redis {
  let down = false;
  const options: RedisOptions = {
    maxRetriesPerRequest: failFast === undefined ? null : failFast,
    enableReadyCheck: true,
    retryStrategy: (n) => {
      if (failFast !== undefined && n > failFast) return null;
      const ms = backoffMs(n);
      down = true;
      if (n === 1 || n % 10 === 0) log?.(`redis ${redact(url)}: connection lost; retry ${n} in ${(ms / 1000).toFixed(1)} s`);
      return ms;
    },
  };
  const r = new Redis(url, options);
  r.on('error', (err: Error) => {
    if (!down) log?.(`redis ${redact(url)}: ${err.message}`);
    down = true;
  });
  r.on('ready', () => {
    if (down) log?.(`redis ${redact(url)}: connected again`);
    down = false;
  });
  return r;
}

/** The URL without its password, for logs and messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Is this error Redis being away (a restart, a failover, a dropped connection) rather than a fault of
 * the request? Either openRedis could not connect, or a connection went down under a command.
 */
export function isRedisDown(err: unknown): boolean {
  const e = err as { message?: string; name?: string; code?: string } | undefined;
  return /cannot reach Redis|Connection is closed|Stream isn't writeable|max retries per request|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/i.test(e?.message ?? '')
    || e?.name === 'MaxRetriesPerRequestError' || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(e?.code ?? '');
}

/** A connection for a one-shot command, with a clear error when Redis cannot be reached. */
export async function openRedis(url: string): Promise<Redis> {
  const r = connectRedis(checkRedisUrl(url), undefined, 2);
  try {
    await r.ping();
  } catch (err) {
    r.disconnect();
    throw new AdaptAsrError(`cannot reach Redis at ${redact(url)}: ${(err as Error).message}`);
  }
  return r;
}
