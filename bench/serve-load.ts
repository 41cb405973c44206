/**
 * Load on `adapt-asr serve` (a child process, default model base-en-real, 2 workers): autocannon
 * POSTs a bundled 3.2 s recording at 1, 4 and 16 connections and records requests per second,
 * p50 / p99 latency and every non-200 answer; then 10,000 requests of a 0.5 s clip with the
 * server's resident memory sampled every 1,000; then a fuzz of malformed requests (cut bodies,
 * mutated WAVs, wrong types, huge headers, garbage), after which the server must still answer.
 *
 *   node dist/bench/serve-load.js [--quick]      (also: npm run bench -- --only serve)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadAudio } from '../lib/audio/index.js';
import { machine, table } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');
const WAV = path.join(ROOT, 'audio-fixtures', 'speech-en-us-16k.wav');

/** The resident memory of a process, in MB (Linux /proc). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A 16-bit mono WAV of the first `seconds` of a file. */
function clip(file: string, seconds: number): Buffer {
  const a = loadAudio(file);
  const n = Math.min(a.samples.length, Math.round(seconds * a.sampleRate));
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(a.sampleRate, 24); b.writeUInt32LE(a.sampleRate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(a.samples[i] * 32767))), 44 + 2 * i);
  return b;
}

async function startServe(args: string[]): Promise<{ child: ChildProcess; url: string; port: number }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /on (http:\/\/\S+) /.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`serve exited with ${c}: ${err}`)));
  });
  return { child, url, port: Number(new URL(url).port) };
}

interface Load { connections: number; requests: number; rps: number; p50: number; p99: number; non2xx: number; codes: Record<string, number>; errors: number; timeouts: number }

async function load(url: string, body: Buffer, connections: number, opts: { amount?: number; duration?: number }): Promise<Load> {
  const codes: Record<string, number> = {};
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const inst = autocannon({ url: `${url}/v1/transcribe`, method: 'POST', body, headers: { 'content-type': 'audio/wav' }, connections, pipelining: 1, timeout: 120, ...opts },
      (err, result) => (err ? reject(err) : resolve(result)));
    inst.on('response', (_c: unknown, status: number) => { codes[status] = (codes[status] ?? 0) + 1; });
  });
  return { connections, requests: r.requests.total, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, codes, errors: r.errors, timeouts: r.timeouts };
}

/** One raw exchange; resolves with the status line, or '' when the server closed without one. */
function raw(port: number, data: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('close', () => resolve(got.split('\r\n')[0]));
    s.on('error', () => resolve(got.split('\r\n')[0]));
    s.setTimeout(20000, () => s.destroy());
    s.on('connect', () => s.end(data));
  });
}

/** Malformed requests of every kind: what the server answered, by status line. */
async function fuzz(port: number, wav: Buffer, n: number): Promise<Record<string, number>> {
  let seed = 12345;
  const r = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
  const seen: Record<string, number> = {};
  const post = (body: Buffer, headers = ''): Buffer => Buffer.concat([Buffer.from(`POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n${headers}\r\n`), body]);
  for (let i = 0; i < n; i += 8) {
    const batch: Buffer[] = [];
    for (let k = 0; k < 8; k++) {
      const kind = Math.floor(r() * 8);
      const cut = wav.subarray(0, Math.floor(r() * wav.length));
      if (kind === 0) batch.push(post(cut));
      else if (kind === 1) { const m = Buffer.from(wav.subarray(0, 4000)); for (let j = 0; j < 20; j++) m[Math.floor(r() * 64)] = Math.floor(r() * 256); batch.push(post(m)); }
      else if (kind === 2) batch.push(Buffer.concat([Buffer.from(`POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Length: ${wav.length}\r\n\r\n`), cut]));
      else if (kind === 3) batch.push(post(cut, `Content-Type: ${['text/html', 'multipart/form-data; boundary=q', 'multipart/form-data', 'image/png'][Math.floor(r() * 4)]}\r\n`));
      else if (kind === 4) batch.push(Buffer.from(`GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Pad: ${'z'.repeat(Math.floor(r() * 100000))}\r\n\r\n`));
      else if (kind === 5) batch.push(Buffer.from(Array.from({ length: 1 + Math.floor(r() * 3000) }, () => Math.floor(r() * 256))));
      else if (kind === 6) batch.push(Buffer.from(`POST /v1/transcribe?adapter=${encodeURIComponent('../'.repeat(Math.floor(r() * 50)))}&format=%00 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nRIFF`));
      else batch.push(Buffer.concat([Buffer.from('POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'), Buffer.from(`${Math.floor(r() * 99999).toString(16)}\r\n`), cut.subarray(0, 500)]));
    }
    for (const status of await Promise.all(batch.map((b) => raw(port, b)))) {
      const key = status.replace(/^HTTP\/1\.1 /, '') || '(closed)';
      seen[key] = (seen[key] ?? 0) + 1;
    }
  }
  return seen;
}

export async function benchServe(quick = false, model = 'base-en-real'): Promise<string> {
  const body = fs.readFileSync(WAV), short = clip(WAV, 0.5);
  const { child, url, port } = await startServe(['--model', model, '--max-concurrent', '2', '--max-queue', '64']);
  const lines: string[] = [];
  try {
    await load(url, body, 2, { amount: 10 }); // warm up
    const rows: Load[] = [];
    for (const c of [1, 4, 16]) rows.push(await load(url, body, c, { duration: quick ? 5 : 20 }));
    const total = quick ? 1000 : 10000, step = total / 10;
    const mem: number[] = [rssMb(child.pid!)];
    let errors = 0, non200 = 0;
    for (let done = 0; done < total; done += step) {
      const r = await load(url, short, 8, { amount: step });
      errors += r.errors + r.timeouts;
      non200 += r.non2xx;
      mem.push(rssMb(child.pid!));
    }
    const fz = await fuzz(port, body, quick ? 200 : 2000);
    const after = await fetch(`${url}/v1/transcribe`, { method: 'POST', body });
    const alive = after.status === 200 && child.exitCode === null;
    lines.push(
      '## Serving (`bench/serve-load`)', '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} by \`node dist/bench/serve-load.js${quick ? ' --quick' : ''}\`: \`adapt-asr serve --model ${model} --max-concurrent 2 --max-queue 64\` in a child process, [autocannon](https://github.com/mcollina/autocannon) on the same machine (it shares the 2 cores).`, '',
      `POST /v1/transcribe of \`audio-fixtures/speech-en-us-16k.wav\` (3.2 s), ${quick ? 5 : 20} s per row:`, '',
      table(['connections', 'requests', 'requests/s', 'audio s per s', 'p50 ms', 'p99 ms', 'answers', 'errors'],
        rows.map((r) => [r.connections, r.requests, r.rps.toFixed(2), (r.rps * 3.205).toFixed(1), r.p50, r.p99, Object.entries(r.codes).map(([k, v]) => `${v} × ${k}`).join(', '), r.errors + r.timeouts])), '',
      `Memory over ${total.toLocaleString('en')} requests of a 0.5 s clip at 8 connections (resident MB of the server process, workers included, every ${step.toLocaleString('en')}): ${mem.map((m) => m.toFixed(0)).join(', ')}. Non-200 answers: ${non200}; connection errors: ${errors}.`, '',
      `Fuzz: ${quick ? 200 : 2000} malformed requests (cut and mutated WAVs, bodies shorter than their Content-Length, wrong content types, headers up to 100 kB, random bytes, bad chunked encoding, path-like adapter names). Answers: ${Object.entries(fz).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} × ${k}`).join(', ')}. After it the server ${alive ? 'still transcribed (200)' : `**did not answer** (${after.status})`}.`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write(await benchServe(process.argv.includes('--quick')) + '\n');
}
