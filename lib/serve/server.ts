/**
 * `adapt-asr serve`: transcription over HTTP and streaming over WebSocket, for voice apps.
 *
 *   POST /v1/transcribe[?adapter=a&format=json|text|srt|vtt]   a WAV body, or multipart with one file
 *   GET  /v1/models                                           the model and adapters served
 *   GET  /healthz                                             up, and how busy (no token needed)
 *   WS   /v1/stream[?adapter=a&sampleRate=16000&encoding=s16|f32]
 *        binary messages of mono PCM in; {"type":"partial"} messages out as the words come, and
 *        after the client's text message "end", {"type":"final", text, words, duration}.
 *
 * Every limit is enforced here, before a worker sees the audio: body size and audio duration (413),
 * at most `maxConcurrent` jobs at once with `maxQueue` more waiting, then 503 with Retry-After; a
 * per-job time limit (504, and the worker is replaced); a bearer token when one is set (401). It
 * binds to 127.0.0.1 unless told otherwise and takes no file paths from requests: adapters are
 * named, and only those given at start are served. One JSON line per request goes to the access log.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import busboy from 'busboy';
import { WebSocketServer, type WebSocket } from 'ws';
import { loadAdapter } from '../adapter/io.js';
import { parseWavHeader } from '../audio/index.js';
import { ConfigError, describeError } from '../errors.js';
import type { OutputFormat } from '../pipeline/captions.js';
import { BusyError, WorkerPool, type Lease } from './pool.js';
import type { Reply } from './protocol.js';

/** Options of startServer; defaults and checks in resolveServeOptions. */
export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  model?: string;
  modelsDir?: string;
  /** Adapter folders to serve, named by their accent (adapter.json) in `?adapter=`. */
  adapters?: string[];
  /** Require `Authorization: Bearer <token>` (WebSocket: that header, or `?token=`). */
  token?: string;
  /** Transcriptions and streams at once: one recognizer worker thread each (default: cores, at most 4). */
  maxConcurrent?: number;
  /** Requests that may wait for a worker before the server answers 503 (default 4 per worker). */
  maxQueue?: number;
  /** Largest request body (default 50 MB). */
  maxBodyBytes?: number;
  /** Longest audio, of a request or a stream (default 600 s). */
  maxAudioSeconds?: number;
  /** Longest a transcription may run, and longest a stream may stay silent (default 120 s). */
  timeoutSeconds?: number;
  /** Each worker's JavaScript heap cap in MB (default 512; base-en-real holds about 210 MB live). */
  workerHeapMb?: number;
  /** The access log: one JSON object per request (default: standard output). */
  log?: (entry: Record<string, unknown>) => void;
}

export type ResolvedServeOptions = Required<Omit<ServeOptions, 'model' | 'modelsDir' | 'token'>> & Pick<ServeOptions, 'model' | 'modelsDir' | 'token'>;

/** Fill in defaults and check every option (ConfigError names the one that is wrong). */
export function resolveServeOptions(o: ServeOptions): ResolvedServeOptions {
  const int = (name: string, v: number | undefined, dflt: number, lo: number, hi: number): number => {
    const x = v ?? dflt;
    if (!(Number.isInteger(x) && x >= lo && x <= hi)) throw new ConfigError(`${name} must be an integer from ${lo} to ${hi}, got ${v}`);
    return x;
  };
  const pos = (name: string, v: number | undefined, dflt: number, hi: number): number => {
    const x = v ?? dflt;
    if (!(x > 0 && x <= hi)) throw new ConfigError(`${name} must be a number above 0 and at most ${hi}, got ${v}`);
    return x;
  };
  const maxConcurrent = int('max-concurrent', o.maxConcurrent, Math.min(4, os.availableParallelism()), 1, 64);
  if (o.token !== undefined && o.token.length < 8) throw new ConfigError('token must be at least 8 characters');
  return {
    host: o.host ?? '127.0.0.1', port: int('port', o.port, 8080, 0, 65535), model: o.model, modelsDir: o.modelsDir, adapters: o.adapters ?? [], token: o.token,
    maxConcurrent, maxQueue: int('max-queue', o.maxQueue, 4 * maxConcurrent, 0, 10000),
    maxBodyBytes: int('max-body-bytes', o.maxBodyBytes, 50 * 2 ** 20, 1024, 2 ** 31), maxAudioSeconds: pos('max-audio-seconds', o.maxAudioSeconds, 600, 24 * 3600),
    timeoutSeconds: pos('timeout', o.timeoutSeconds, 120, 3600), workerHeapMb: int('worker-heap-mb', o.workerHeapMb, 512, 64, 65536),
    log: o.log ?? ((e) => process.stdout.write(JSON.stringify(e) + '\n')),
  };
}

/** A server started by startServer: its address, its workers, and close(). */
export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  pool: WorkerPool;
  /** Stop accepting, finish the work in flight (at most `graceMs`), then stop the workers. */
  close(graceMs?: number): Promise<void>;
}

const FORMATS: readonly OutputFormat[] = ['json', 'text', 'srt', 'vtt'];
const CONTENT_TYPES: Record<OutputFormat, string> = { json: 'application/json', text: 'text/plain; charset=utf-8', srt: 'application/x-subrip; charset=utf-8', vtt: 'text/vtt; charset=utf-8' };
// curl --data-binary labels its body application/x-www-form-urlencoded: taken as the WAV it is.
const WAV_TYPES = new Set(['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave', 'application/octet-stream', 'application/x-www-form-urlencoded', '']);

/** An answer with a status: what handlers throw for the caller's mistakes and the server's limits. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Names the adapters by accent (a name given twice is refused). */
function nameAdapters(dirs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of dirs) {
    const name = loadAdapter(dir).meta.accent;
    if (out[name]) throw new ConfigError(`two adapters for accent '${name}': ${out[name]} and ${dir}`);
    out[name] = path.resolve(dir);
  }
  return out;
}

/** Start the server: load the workers (each loads the model and adapters), then listen. */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const o = resolveServeOptions(options);
  const pool = await WorkerPool.start({ model: o.model, modelsDir: o.modelsDir, adapters: nameAdapters(o.adapters), maxAudioSeconds: o.maxAudioSeconds }, o.maxConcurrent, o.maxQueue, o.workerHeapMb);
  let inFlight = 0;
  let nextId = 1;
  let closing = false;
  const streams = new Set<{ finish: () => Promise<void> }>();
  const expected = o.token === undefined ? undefined : crypto.createHash('sha256').update(o.token).digest();
  const authorized = (header: string | undefined, query: string | null): boolean => {
    if (!expected) return true;
    const given = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1] ?? query ?? '';
    return crypto.timingSafeEqual(crypto.createHash('sha256').update(given).digest(), expected);
  };

  /** A job's replies until it is done, failed or out of time (the worker is then replaced). */
  const runJob = (lease: Lease, id: number, wav: Uint8Array, adapter: string | undefined, format: OutputFormat): Promise<Reply> => new Promise((resolve) => {
    const timer = setTimeout(() => {
      lease.release(true);
      resolve({ type: 'failed', id, status: 504, error: `transcription took longer than ${o.timeoutSeconds} s` });
    }, o.timeoutSeconds * 1000);
    lease.onReply = (r) => {
      if (r.type !== 'done' && r.type !== 'failed') return;
      clearTimeout(timer);
      lease.release();
      resolve(r);
    };
    lease.post({ type: 'transcribe', id, wav, adapter, format }, [wav.buffer as ArrayBuffer]);
  });

  const server = http.createServer(async (req, res) => {
    const t0 = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry: Record<string, unknown> = { time: new Date().toISOString(), ip: req.socket.remoteAddress, method: req.method, path: url.pathname };
    let bytesIn = 0;
    inFlight++;
    res.on('close', () => {
      inFlight--;
      o.log({ ...entry, status: res.statusCode, ms: Math.round(performance.now() - t0), bytesIn });
    });
    const reply = (status: number, body: string | object, headers: Record<string, string> = {}): void => {
      if (res.headersSent) return;
      const text = typeof body === 'string' ? body : JSON.stringify(body) + '\n';
      res.writeHead(status, { 'content-type': typeof body === 'string' ? CONTENT_TYPES.text : CONTENT_TYPES.json, 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    try {
      if (url.pathname === '/healthz') {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET', { allow: 'GET' });
        return reply(closing ? 503 : 200, { status: closing ? 'closing' : 'ok', ...pool.load });
      }
      if (!['/v1/models', '/v1/transcribe'].includes(url.pathname)) throw new HttpError(404, 'no such endpoint; see /v1/transcribe, /v1/models, /v1/stream, /healthz');
      if (!authorized(req.headers.authorization, null)) throw new HttpError(401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
      if (url.pathname === '/v1/models') {
        if (req.method !== 'GET') throw new HttpError(405, 'use GET', { allow: 'GET' });
        return reply(200, pool.served!);
      }
      if (req.method !== 'POST') throw new HttpError(405, 'POST a WAV file', { allow: 'POST' });
      if (closing) throw new HttpError(503, 'the server is shutting down', { 'retry-after': '5' });
      const format = (url.searchParams.get('format') ?? 'json') as OutputFormat;
      if (!FORMATS.includes(format)) throw new HttpError(400, `format must be one of ${FORMATS.join(', ')}`);
      const adapter = url.searchParams.get('adapter') ?? undefined;
      if (adapter !== undefined && !pool.served!.adapters.some((a) => a.name === adapter)) throw new HttpError(400, `unknown adapter '${adapter.slice(0, 40)}'; GET /v1/models lists the adapters served`);
      const wav = await readWav(req, o.maxBodyBytes);
      bytesIn = wav.length;
      let seconds: number;
      try {
        const info = parseWavHeader(wav.subarray(0, Math.min(wav.length, 1 << 20)), wav.length);
        seconds = info.numFrames / info.sampleRate;
      } catch (err) {
        throw new HttpError(400, describeError(err).message);
      }
      entry.audioSeconds = Math.round(seconds * 100) / 100;
      if (adapter) entry.adapter = adapter;
      if (seconds > o.maxAudioSeconds) throw new HttpError(413, `audio is ${seconds.toFixed(1)} s; this server takes at most ${o.maxAudioSeconds} s`);
      let lease: Lease;
      try {
        lease = await pool.acquire();
      } catch (err) {
        if (err instanceof BusyError) throw new HttpError(503, err.message, { 'retry-after': '1' });
        throw err;
      }
      const r = await runJob(lease, nextId++, wav, adapter, format);
      if (r.type === 'failed') throw new HttpError(r.status, r.error);
      if (r.type !== 'done') throw new HttpError(500, 'no result');
      const t = r.transcript;
      if (format === 'json') return reply(200, { text: t.text, words: t.words, duration: t.duration });
      res.writeHead(200, { 'content-type': CONTENT_TYPES[format], 'content-length': Buffer.byteLength(r.body) });
      res.end(r.body);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, describeError(err).message);
      entry.error = e.message;
      // After a refused body the rest of it is not read: the connection closes.
      reply(e.status, { error: e.message }, e.status === 413 ? { ...e.headers, connection: 'close' } : e.headers);
      if (e.status === 413) res.on('finish', () => req.destroy());
    }
  });
  server.headersTimeout = 10000;
  server.requestTimeout = Math.max(30000, o.timeoutSeconds * 1000);
  server.keepAliveTimeout = 5000;

  // WebSocket streaming: one worker per stream for its whole length.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, message: string): void => {
      o.log({ time: new Date().toISOString(), ip: req.socket.remoteAddress, method: 'GET', path: url.pathname, status, error: message });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\nconnection: close\r\n${status === 503 ? 'retry-after: 1\r\n' : ''}\r\n${JSON.stringify({ error: message })}\n`);
    };
    if (url.pathname !== '/v1/stream') return refuse(404, 'WebSocket streaming is at /v1/stream');
    if (!authorized(req.headers.authorization, url.searchParams.get('token'))) return refuse(401, 'missing or wrong bearer token');
    if (closing) return refuse(503, 'the server is shutting down');
    const adapter = url.searchParams.get('adapter') ?? undefined;
    if (adapter !== undefined && !pool.served!.adapters.some((a) => a.name === adapter)) return refuse(400, `unknown adapter '${adapter.slice(0, 40)}'`);
    const rate = Number(url.searchParams.get('sampleRate') ?? 16000);
    if (!(Number.isInteger(rate) && rate >= 8000 && rate <= 96000)) return refuse(400, 'sampleRate must be an integer from 8000 to 96000');
    const encoding = url.searchParams.get('encoding') ?? 's16';
    if (encoding !== 's16' && encoding !== 'f32') return refuse(400, 'encoding must be s16 (16-bit little-endian) or f32 (32-bit float little-endian)');
    pool.acquire().then((lease) => {
      wss.handleUpgrade(req, socket, head, (ws) => serveStream(ws, lease, { adapter, rate, encoding, ip: req.socket.remoteAddress }));
    }, (err) => refuse(err instanceof BusyError ? 503 : 500, describeError(err).message));
  });

  function serveStream(ws: WebSocket, lease: Lease, p: { adapter?: string; rate: number; encoding: string; ip?: string }): void {
    const id = nextId++, t0 = performance.now();
    let seconds = 0, ended = false, done = false, error: string | undefined;
    inFlight++;
    const finishResolvers: (() => void)[] = [];
    const end = (code: number, reason: string): void => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      streams.delete(handle);
      inFlight--;
      if (!ended) lease.post({ type: 'stream-end', id, drop: true });
      lease.release();
      if (ws.readyState === ws.OPEN) ws.close(code, reason.slice(0, 120));
      o.log({ time: new Date().toISOString(), ip: p.ip, method: 'WS', path: '/v1/stream', status: code, ms: Math.round(performance.now() - t0), audioSeconds: Math.round(seconds * 100) / 100, ...(p.adapter ? { adapter: p.adapter } : {}), ...(error ? { error } : {}) });
      for (const f of finishResolvers.splice(0)) f();
    };
    const fail = (code: number, message: string): void => {
      error = message;
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'error', error: message }));
      end(code, message);
    };
    let idle = setTimeout(() => fail(1008, `no audio for ${o.timeoutSeconds} s`), o.timeoutSeconds * 1000);
    const finish = (): void => {
      if (ended || done) return;
      ended = true;
      clearTimeout(idle);
      idle = setTimeout(() => fail(1011, `the final result took longer than ${o.timeoutSeconds} s`), o.timeoutSeconds * 1000);
      lease.post({ type: 'stream-end', id });
    };
    const handle = { finish: () => new Promise<void>((resolve) => { finishResolvers.push(resolve); finish(); }) };
    streams.add(handle);
    lease.onReply = (r) => {
      if (r.type === 'partial') ws.send(JSON.stringify({ type: 'partial', text: r.text, audioSeconds: r.audioSeconds }));
      else if (r.type === 'final') {
        ws.send(JSON.stringify({ type: 'final', text: r.transcript.text, words: r.transcript.words, duration: r.transcript.duration }));
        end(1000, 'done');
      } else if (r.type === 'failed') fail(r.status === 400 ? 1008 : 1011, r.error);
    };
    lease.post({ type: 'stream-open', id, adapter: p.adapter, sampleRate: p.rate });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (done || ended) return;
      if (!isBinary) {
        const text = data.toString('utf8').trim();
        if (text === 'end' || text === '{"type":"end"}') return finish();
        return fail(1003, 'text messages: only "end"; send audio as binary messages');
      }
      const width = p.encoding === 's16' ? 2 : 4;
      if (data.length % width !== 0) return fail(1007, `a binary message must hold whole ${width}-byte samples`);
      const n = data.length / width;
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = width === 2 ? data.readInt16LE(2 * i) / 32768 : data.readFloatLE(4 * i);
      if (width === 4 && !samples.every(Number.isFinite)) return fail(1007, 'audio holds NaN or infinite samples');
      seconds += n / p.rate;
      if (seconds > o.maxAudioSeconds) return fail(1009, `stream longer than ${o.maxAudioSeconds} s`);
      clearTimeout(idle);
      idle = setTimeout(() => fail(1008, `no audio for ${o.timeoutSeconds} s`), o.timeoutSeconds * 1000);
      lease.post({ type: 'stream-chunk', id, samples }, [samples.buffer]);
    });
    ws.on('close', () => end(1000, 'client closed'));
    ws.on('error', () => end(1011, 'socket error'));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ConfigError(err.code === 'EADDRINUSE' ? `port ${o.port} on ${o.host} is in use` : `cannot listen on ${o.host}:${o.port} (${err.code})`)));
    server.listen(o.port, o.host, () => resolve());
  }).catch(async (err) => {
    await pool.close(0);
    throw err;
  });
  const port = (server.address() as { port: number }).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`, port, pool,
    close: async (graceMs = 30000) => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Streams give their final result for the audio they have; requests in flight finish.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...streams].map((s) => s.finish())), new Promise((r) => { timer = setTimeout(r, graceMs); })]);
      clearTimeout(timer);
      const t0 = Date.now();
      while (inFlight > 0 && Date.now() - t0 < graceMs) await new Promise((r) => setTimeout(r, 20));
      server.closeAllConnections();
      for (const ws of wss.clients) ws.terminate();
      await closed;
      await pool.close(0);
    },
  };
}

/** The WAV bytes of a request: the body, or the one file of a multipart form. 413 past `limit`. */
function readWav(req: http.IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(new HttpError(413, `body of ${declared} bytes; this server takes at most ${limit}`));
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'multipart/form-data') return readMultipart(req, limit);
  if (!WAV_TYPES.has(type)) return Promise.reject(new HttpError(415, `content-type ${type.slice(0, 60)} is not a WAV file; send audio/wav, or multipart/form-data with one file`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        req.removeAllListeners('data');
        req.pause();
        return reject(new HttpError(413, `body larger than ${limit} bytes`));
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (n === 0) return reject(new HttpError(400, 'empty body; POST a WAV file'));
      const out = new Uint8Array(n); // its own buffer, to be handed to a worker
      let o = 0;
      for (const c of chunks) { out.set(c, o); o += c.length; }
      resolve(out);
    });
    req.on('error', () => reject(new HttpError(400, 'the request body was cut off')));
    req.on('aborted', () => reject(new HttpError(400, 'the request body was cut off')));
  });
}

function readMultipart(req: http.IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: limit, fields: 20, parts: 21, fieldSize: 4096 } });
    } catch (err) {
      return reject(new HttpError(400, `bad multipart request (${(err as Error).message})`));
    }
    let file: Uint8Array | undefined, failed = false;
    const fail = (e: HttpError): void => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.pause();
      reject(e);
    };
    bb.on('file', (_name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(new HttpError(413, `file larger than ${limit} bytes`)));
      stream.on('close', () => {
        if (failed) return;
        file = new Uint8Array(Buffer.concat(chunks));
      });
    });
    bb.on('error', (err: Error) => fail(new HttpError(400, `bad multipart request (${err.message})`)));
    bb.on('close', () => {
      if (failed) return;
      if (!file || file.length === 0) return fail(new HttpError(400, 'the form holds no file; send the WAV as a file field'));
      resolve(file);
    });
    req.on('aborted', () => fail(new HttpError(400, 'the request body was cut off')));
    req.pipe(bb);
  });
}
