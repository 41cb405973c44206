import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { loadAudio } from '../../lib/audio/index.js';
import { loadRecognizer, type Recognizer } from '../../lib/pipeline/recognizer.js';
import { resolveServeOptions, startServer, type RunningServer } from '../../lib/serve/server.js';
import { randomAdapter } from '../helpers/adapters.js';
import { audioFixture, ROOT, wavFixture } from '../helpers/fixtures.js';
import { importTestModelWithHead } from '../helpers/models.js';

const WAV = audioFixture('speech-en-us-16k.wav');
const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');

/** A raw HTTP exchange: what the server answers (or '' when it closes without answering). */
function raw(port: number, request: string | Buffer, { slowMs = 0, endAfter = true } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
    s.setTimeout(15000, () => s.destroy());
    s.on('connect', async () => {
      if (slowMs) {
        for (const ch of Buffer.from(request)) {
          if (s.destroyed) break;
          s.write(Buffer.from([ch]));
          await new Promise((r) => setTimeout(r, slowMs));
        }
      } else {
        s.write(request);
      }
      if (endAfter) s.end();
    });
  });
}

describe('serve: HTTP and WebSocket', function () {
  this.timeout(180000);
  let dir: string, srv: RunningServer, rec: Recognizer, adapted: Recognizer;
  const log: Record<string, unknown>[] = [];
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-serve-'));
    randomAdapter(path.join(ROOT, 'models', 'base-en'), path.join(dir, 'glasgow'), { accent: 'glasgow' });
    srv = await startServer({ port: 0, model: 'base-en', adapters: [path.join(dir, 'glasgow')], maxConcurrent: 2, log: (e) => log.push(e) });
    rec = await loadRecognizer({ model: 'base-en', threads: 1 });
    adapted = await loadRecognizer({ adapter: path.join(dir, 'glasgow'), threads: 1 });
  });
  after(async () => {
    await srv?.close();
    await rec?.release();
    await adapted?.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('binds to 127.0.0.1 by default; options are checked', () => {
    assert.equal(resolveServeOptions({}).host, '127.0.0.1');
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.throws(() => resolveServeOptions({ maxConcurrent: 0 }), /max-concurrent must be an integer from 1 to 64/);
    assert.throws(() => resolveServeOptions({ token: 'short' }), /token must be at least 8 characters/);
    assert.equal(resolveServeOptions({}).workerHeapMb, 512);
  });

  it('a worker heap too small for the model fails the start with one line saying which option to raise', async () => {
    await assert.rejects(startServer({ port: 0, model: 'base-en', maxConcurrent: 1, workerHeapMb: 64, log: () => undefined }), /a recognizer worker ran out of its 64 MB heap while loading the model; raise --worker-heap-mb/);
  });

  it('POST /v1/transcribe: the text, words and duration transcribe gives, with or without the adapter; srt, vtt, text; multipart', async () => {
    const body = fs.readFileSync(WAV);
    const want = await rec.transcribe(WAV), wantAdapted = await adapted.transcribe(WAV);
    assert.notEqual(want.text, wantAdapted.text, 'the adapter changes the text (else this test proves nothing)');
    const r = await fetch(`${srv.url}/v1/transcribe`, { method: 'POST', body, headers: { 'content-type': 'audio/wav' } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { text: want.text, words: want.words, duration: want.duration });
    const a = await fetch(`${srv.url}/v1/transcribe?adapter=glasgow`, { method: 'POST', body });
    assert.equal(((await a.json()) as { text: string }).text, wantAdapted.text);
    const srt = await fetch(`${srv.url}/v1/transcribe?format=srt`, { method: 'POST', body });
    assert.match(srt.headers.get('content-type')!, /subrip/);
    assert.match(await srt.text(), /^1\n00:00:0\d,\d{3} --> 00:00:0\d,\d{3}\n/);
    const vtt = await fetch(`${srv.url}/v1/transcribe?format=vtt`, { method: 'POST', body });
    assert.match(await vtt.text(), /^WEBVTT\n\n/);
    const form = new FormData();
    form.append('note', 'hello');
    form.append('file', new Blob([body], { type: 'audio/wav' }), 'speech.wav');
    const mp = await fetch(`${srv.url}/v1/transcribe?format=text`, { method: 'POST', body: form });
    assert.equal(await mp.text(), `${want.text}\n`);
  });

  it('GET /v1/models and /healthz; wrong requests get their status and a one-line reason', async () => {
    const m = (await (await fetch(`${srv.url}/v1/models`)).json()) as { model: { name: string }; adapters: { name: string; base: string; accepted: boolean }[] };
    assert.equal(m.model.name, 'base-en');
    assert.deepEqual(m.adapters.map((x) => [x.name, x.base.split(' ')[0], x.accepted]), [['glasgow', 'base-en', true]]);
    const h = (await (await fetch(`${srv.url}/healthz`)).json()) as { status: string; workers: number };
    assert.deepEqual([h.status, h.workers], ['ok', 2]);
    const cases: [string, RequestInit, number, RegExp][] = [
      ['/v1/transcribe?adapter=../../etc', { method: 'POST', body: fs.readFileSync(WAV) }, 400, /unknown adapter/],
      ['/v1/transcribe?format=mp3', { method: 'POST', body: fs.readFileSync(WAV) }, 400, /format must be one of/],
      ['/v1/transcribe', { method: 'POST', body: fs.readFileSync(wavFixture('adpcm.wav')) }, 400, /unsupported codec: IMA ADPCM/],
      ['/v1/transcribe', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } }, 415, /is not a WAV file/],
      ['/v1/transcribe', { method: 'POST', body: Buffer.from('RIFF....WAVEjunk') }, 400, /not a WAV file|WAV/],
      ['/v1/transcribe', { method: 'POST', body: Buffer.alloc(0) }, 400, /empty body/],
      ['/v1/transcribe', { method: 'GET' }, 405, /POST a WAV file/],
      ['/etc/passwd', { method: 'GET' }, 404, /no such endpoint/],
    ];
    for (const [p, init, status, msg] of cases) {
      const r = await fetch(`${srv.url}${p}`, init);
      assert.equal(r.status, status, p);
      assert.match(((await r.json()) as { error: string }).error, msg, p);
    }
    const line = log.find((e) => e.status === 415)!;
    assert.deepEqual(Object.keys(line).sort(), ['bytesIn', 'error', 'ip', 'method', 'ms', 'path', 'status', 'time']);
  });

  it('WebSocket /v1/stream: partial results while audio arrives, and a final result equal to transcribe', async () => {
    const audio = loadAudio(WAV);
    const pcm = Buffer.alloc(audio.samples.length * 2);
    audio.samples.forEach((x, i) => pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(x * 32768))), 2 * i));
    const want = await rec.transcribe({ samples: Float32Array.from(audio.samples, (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32768))) / 32768), sampleRate: 16000 });
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/v1/stream`);
    const msgs: { type: string; text: string; words?: unknown[] }[] = [];
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.on('open', r));
    for (let o = 0; o < pcm.length; o += 6400) { // 0.2 s chunks
      ws.send(pcm.subarray(o, o + 6400));
      await new Promise((r) => setTimeout(r, 20));
    }
    ws.send('end');
    assert.equal(await closed, 1000);
    const final = msgs.at(-1)!;
    assert.equal(final.type, 'final');
    assert.equal(final.text, want.text);
    assert.ok(msgs.some((m) => m.type === 'partial'), 'partial results');
    // A text message other than "end" is refused with a reason.
    const bad = new WebSocket(`${srv.url.replace('http', 'ws')}/v1/stream?encoding=s16`);
    const badMsgs: string[] = [];
    bad.on('message', (d) => badMsgs.push(d.toString()));
    await new Promise((r) => bad.on('open', r));
    bad.send('hello');
    assert.equal(await new Promise((r) => bad.on('close', r)), 1003);
    assert.match(JSON.parse(badMsgs[0]).error, /only "end"/);
    // Wrong parameters are refused before the upgrade.
    const refused = await raw(srv.port, 'GET /v1/stream?sampleRate=5 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    assert.match(refused, /^HTTP\/1\.1 400 Bad Request[\s\S]*sampleRate must be/);
  });

  it('malformed requests (truncated bodies, wrong types, huge headers, slow and garbage clients) crash nothing', async () => {
    const wav = fs.readFileSync(WAV);
    const rnd = (n: number, seed: number): Buffer => { let s = seed; return Buffer.from(Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s & 255; })); };
    const answers = await Promise.all([
      raw(srv.port, Buffer.concat([Buffer.from(`POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Length: ${wav.length}\r\n\r\n`), wav.subarray(0, 1000)])),
      raw(srv.port, Buffer.concat([Buffer.from('POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\nContent-Length: 100\r\n\r\n--zz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF')])),
      raw(srv.port, 'POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data\r\nContent-Length: 4\r\n\r\nabcd'),
      raw(srv.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40000)}\r\n\r\n`),
      raw(srv.port, 'GARBAGE\r\n\r\n'),
      raw(srv.port, rnd(5000, 7)),
      raw(srv.port, Buffer.concat([Buffer.from('POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nRIFF'), rnd(50, 3)])),
      raw(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { slowMs: 30 }),
      ...[0.1, 0.5, 0.9].map((f) => raw(srv.port, Buffer.concat([Buffer.from(`POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Length: ${Math.floor(wav.length * f)}\r\nConnection: close\r\n\r\n`), wav.subarray(0, Math.floor(wav.length * f))]))),
      ...[3, 4, 5].map((seed) => raw(srv.port, Buffer.concat([Buffer.from('POST /v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Length: 2044\r\nConnection: close\r\n\r\n'), wav.subarray(0, 44), rnd(2000, seed)]))),
    ]);
    assert.match(answers[3], /^HTTP\/1\.1 431/, 'huge header');
    assert.match(answers[4], /^HTTP\/1\.1 400/, 'garbage request line');
    assert.match(answers[7], /^HTTP\/1\.1 200/, 'slow but complete client');
    for (const a of answers.slice(8, 11)) assert.match(a, /^HTTP\/1\.1 (200|400) /, 'a cut WAV is decoded as far as it goes, or refused');
    for (const a of answers.slice(11)) assert.match(a, /^HTTP\/1\.1 (200|400) /, 'a WAV header on random bytes');
    const r = await fetch(`${srv.url}/v1/transcribe`, { method: 'POST', body: wav });
    assert.equal(r.status, 200);
    assert.equal(((await (await fetch(`${srv.url}/healthz`)).json()) as { workers: number }).workers, 2);
  });
});

describe('serve: limits', function () {
  this.timeout(180000);
  let dir: string, model: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-serve-lim-'));
    model = (await importTestModelWithHead(dir, 'tiny')).dir;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('body size and duration (413), bearer token (401), a full queue (503 with Retry-After), the time limit (504; the worker is replaced)', async () => {
    const wav = fs.readFileSync(WAV);
    const srv = await startServer({ port: 0, model, maxConcurrent: 1, maxQueue: 0, maxBodyBytes: 80000, maxAudioSeconds: 2, token: 'secret-token', log: () => undefined });
    try {
      const auth = { authorization: 'Bearer secret-token' };
      assert.equal((await fetch(`${srv.url}/v1/models`)).status, 401);
      assert.equal((await fetch(`${srv.url}/v1/models`, { headers: { authorization: 'Bearer wrong-token' } })).status, 401);
      assert.equal((await fetch(`${srv.url}/v1/models`, { headers: auth })).status, 200);
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200, 'health needs no token');
      const big = await fetch(`${srv.url}/v1/transcribe`, { method: 'POST', body: wav, headers: auth });
      assert.equal(big.status, 413);
      assert.match(((await big.json()) as { error: string }).error, /at most 80000/);
      // 3 s of audio in fewer bytes than the limit: 8 kHz.
      const { wavBytes, pcm16 } = await import('../helpers/wav-bytes.js');
      const long = wavBytes({ channels: 1, rate: 8000, bits: 16, data: pcm16([new Float32Array(24000)]) });
      const tooLong = await fetch(`${srv.url}/v1/transcribe`, { method: 'POST', body: long, headers: auth });
      assert.equal(tooLong.status, 413);
      assert.match(((await tooLong.json()) as { error: string }).error, /audio is 3\.0 s; this server takes at most 2 s/);
      const short = wavBytes({ channels: 1, rate: 16000, bits: 16, data: pcm16([new Float32Array(16000)]) });
      const many = await Promise.all(Array.from({ length: 6 }, () => fetch(`${srv.url}/v1/transcribe`, { method: 'POST', body: short, headers: auth })));
      const codes = many.map((r) => r.status).sort();
      assert.equal(codes[0], 200);
      assert.ok(codes.filter((c) => c === 503).length >= 1, `some refused: ${codes}`);
      assert.ok(codes.every((c) => c === 200 || c === 503), `${codes}`);
      assert.equal(many.find((r) => r.status === 503)!.headers.get('retry-after'), '1');
    } finally {
      await srv.close();
    }
    const slow = await startServer({ port: 0, model, maxConcurrent: 1, timeoutSeconds: 0.001, log: () => undefined });
    try {
      const r = await fetch(`${slow.url}/v1/transcribe`, { method: 'POST', body: wav });
      assert.equal(r.status, 504);
      assert.match(((await r.json()) as { error: string }).error, /took longer than 0\.001 s/);
      const t0 = Date.now();
      while (slow.pool.load.workers < 1 && Date.now() - t0 < 30000) await new Promise((res) => setTimeout(res, 50));
      assert.equal(slow.pool.load.workers, 1, 'a fresh worker replaced the stuck one');
    } finally {
      await slow.close();
    }
  });

  it('adapt-asr serve: SIGTERM lets the request in flight finish, then exits 0; the access log is JSON lines', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--model', model, '--max-concurrent', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '', out = '';
    child.stdout.on('data', (d) => { out += d; });
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /on (http:\/\/\S+) /.exec(err);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(err)));
    });
    const long = Buffer.concat([fs.readFileSync(audioFixture('speech-en-gb-f3-16k.wav'))]);
    const pending = fetch(`${url}/v1/transcribe`, { method: 'POST', body: long });
    await new Promise((r) => setTimeout(r, 30));
    child.kill('SIGTERM');
    const res = await pending;
    assert.equal(res.status, 200);
    const code = await new Promise((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 0, err);
    assert.match(err, /SIGTERM: finishing the work in flight/);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).status, 200);
    assert.equal(lines.at(-1).path, '/v1/transcribe');
  });
});
