import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadAudio } from '../../lib/audio/index.js';
import { loadAdapter } from '../../lib/adapter/io.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { batchKey, PREFIX } from '../../lib/queue/config.js';
import { batchBook } from '../../lib/queue/worker.js';
import { batchResults, batchStatus, trainStatus, type BatchStatus } from '../../lib/queue/submit.js';
import { audioFixture, ROOT } from '../helpers/fixtures.js';
import { redisMissing, TestRedis } from '../helpers/redis.js';
import { pcm16, wavBytes } from '../helpers/wav-bytes.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');
const SCOTTISH_TEST = path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test');
const LOCK = 5;

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300000 });

/** A worker process and the JSON events it logs. */
class WorkerProc {
  readonly events: Record<string, unknown>[] = [];
  readonly proc: ChildProcess;
  exitCode?: number | null;
  constructor(readonly name: string, redis: string, dataRoot: string, outRoot: string, extra: string[] = []) {
    this.proc = spawn(process.execPath, [BIN, 'worker', '--redis', redis, '--data-root', dataRoot, '--out-root', outRoot, '--lock-seconds', String(LOCK), '--name', name, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let buf = '';
    this.proc.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try { this.events.push(JSON.parse(line) as Record<string, unknown>); } catch { this.events.push({ event: 'text', message: line }); }
      }
    });
    this.proc.on('exit', (code) => { this.exitCode = code; });
  }

  has(pred: (e: Record<string, unknown>) => boolean): boolean { return this.events.some(pred); }

  async waitFor(pred: (e: Record<string, unknown>) => boolean, ms = 120000): Promise<Record<string, unknown>> {
    const t0 = Date.now();
    for (;;) {
      const e = this.events.find(pred);
      if (e) return e;
      if (this.exitCode !== undefined) throw new Error(`worker ${this.name} exited (${this.exitCode}) while waited on; its log: ${JSON.stringify(this.events.slice(-5))}`);
      if (Date.now() - t0 > ms) throw new Error(`worker ${this.name}: timed out; its log: ${JSON.stringify(this.events.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  kill(signal: NodeJS.Signals): void { this.proc.kill(signal); }
  async exited(): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    return new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }
}

/** The first event matching `pred` in any of the workers, and whose it was. */
async function firstOf(workers: WorkerProc[], pred: (e: Record<string, unknown>) => boolean, ms = 120000): Promise<WorkerProc> {
  const t0 = Date.now();
  for (;;) {
    const w = workers.find((x) => x.has(pred));
    if (w) return w;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for a worker event');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function waitFinished(url: string, id: string, ms = 180000): Promise<BatchStatus> {
  const t0 = Date.now();
  for (;;) {
    const s = await batchStatus(url, id);
    if (s.finished) return s;
    if (Date.now() - t0 > ms) throw new Error(`batch ${id} not finished: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const submit = (url: string, inputs: string[], out: string, extra: string[] = []): string => {
  const r = cli(['batch', 'submit', ...inputs, '--redis', url, '--format', 'json', '--out', out, ...extra]);
  assert.equal(r.status, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{10}$/);
  return id;
};

describe('queue: batch jobs on BullMQ with a real redis-server', function () {
  this.timeout(600000);
  let redis: TestRedis, tmp: string, data: string, out: string;
  let audio: string[];
  const expected = new Map<string, string>(); // result name -> what `transcribe --format json` writes
  const workers: WorkerProc[] = [];
  const spawnWorker = (name: string, extra: string[] = []): WorkerProc => {
    const w = new WorkerProc(name, redis.url, data, out, extra);
    workers.push(w);
    return w;
  };

  before(async function () {
    const why = redisMissing();
    if (why) {
      console.log(`    skipped: ${why}`);
      this.skip();
    }
    redis = await TestRedis.start();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-queue-'));
    data = path.join(tmp, 'data');
    out = path.join(tmp, 'out');
    fs.mkdirSync(path.join(data, 'batch'), { recursive: true });
    fs.mkdirSync(out);
    // A long recording first (so that a worker can be killed in the middle of it), then short ones.
    const short = fs.readdirSync(SCOTTISH_TEST).filter((f) => f.endsWith('.wav')).sort().slice(0, 10);
    const parts = short.map((f) => loadAudio(path.join(SCOTTISH_TEST, f)).samples);
    const long = new Float32Array(parts.reduce((a, p) => a + p.length + 8000, 0) * 2);
    let off = 0;
    for (let k = 0; k < 2; k++) for (const p of parts) { long.set(p, off); off += p.length + 8000; }
    fs.writeFileSync(path.join(data, 'batch', 'a-long.wav'), wavBytes({ channels: 1, rate: 16000, bits: 16, data: pcm16([long]) }));
    for (const f of short) fs.copyFileSync(path.join(SCOTTISH_TEST, f), path.join(data, 'batch', f));
    audio = fs.readdirSync(path.join(data, 'batch')).sort().map((f) => path.join(data, 'batch', f));
    const ref = path.join(tmp, 'ref');
    const r = cli(['transcribe', ...audio, '--format', 'json', '--out', ref]);
    assert.equal(r.status, 0, r.stderr);
    for (const f of fs.readdirSync(ref)) expected.set(f, fs.readFileSync(path.join(ref, f), 'utf8'));
    assert.equal(expected.size, audio.length);
  });

  after(async () => {
    for (const w of workers) if (w.exitCode === undefined) w.kill('SIGKILL');
    await redis?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** At least two live workers (starting new ones as needed). */
  const twoWorkers = async (): Promise<WorkerProc[]> => {
    const live = workers.filter((w) => w.exitCode === undefined);
    while (live.length < 2) {
      const w = spawnWorker(`W${workers.length}`);
      await w.waitFor((e) => e.event === 'ready');
      live.push(w);
    }
    return live;
  };

  const checkResults = (dir: string): void => {
    const got = fs.readdirSync(dir).sort();
    assert.deepEqual(got, [...expected.keys()].sort(), 'exactly one result per file, and nothing else (no temporary files)');
    for (const f of got) assert.equal(fs.readFileSync(path.join(dir, f), 'utf8'), expected.get(f), `${f} differs from transcribe's`);
  };

  it('batch bookkeeping: a job finished twice counts once, done or failed; the hashes take the batch\'s expiry; an expired batch is left alone', async () => {
    const conn = new Redis(redis.url);
    try {
      const book = batchBook(conn);
      await conn.hset(batchKey('b0'), { total: 2, audio: 0 });
      await conn.expire(batchKey('b0'), 100);
      assert.equal(await book.started('b0', 0, 'w1'), 1);
      assert.deepEqual(await conn.hgetall(batchKey('b0', 'running')), { 0: 'w1' });
      await book.finished('b0', 0, '/o/a.json', 2.5, 'done');
      await book.finished('b0', 0, '/o/a.json', 2.5, 'done'); // a retry after a worker thought dead came back
      await book.finished('b0', 0, 'late error', 0, 'failed');
      const h = await conn.hgetall(batchKey('b0'));
      assert.equal(Number(h.audio), 2.5);
      assert.equal(h.finished, undefined);
      assert.deepEqual(await conn.hgetall(batchKey('b0', 'failed')), {});
      assert.deepEqual(await conn.hgetall(batchKey('b0', 'running')), {});
      await book.finished('b0', 1, 'bad.wav: not a WAV file', 0, 'failed');
      assert.ok((await conn.hget(batchKey('b0'), 'finished')) !== null, 'finished once every file is done or failed');
      for (const part of ['done', 'failed'] as const) {
        const ttl = await conn.ttl(batchKey('b0', part));
        assert.ok(ttl > 90 && ttl <= 100, `${part} expires with the batch (${ttl} s)`);
      }
      assert.equal(await book.started('gone', 0, 'w1'), 0);
      assert.equal(await conn.exists(batchKey('gone', 'running')), 0);
    } finally {
      conn.disconnect();
    }
  });

  it('two workers, one SIGKILLed in the middle of a job: every file has exactly one result, equal to transcribe; poison and outside files fail with their errors', async () => {
    const a = spawnWorker('A'), b = spawnWorker('B');
    await Promise.all([a.waitFor((e) => e.event === 'ready'), b.waitFor((e) => e.event === 'ready')]);
    const poison = path.join(data, 'batch-bad', 'poison.wav');
    fs.mkdirSync(path.dirname(poison));
    fs.writeFileSync(poison, 'this is not audio at all, just text pretending to be a WAV file');
    const outside = audioFixture('speech-en-us-16k.wav'); // not under --data-root
    const res = path.join(out, 'one');
    const id = submit(redis.url, [...audio, poison, outside], res, ['--attempts', '2']);
    const first = `${id}-0`;
    const victim = await firstOf([a, b], (e) => e.event === 'start' && e.job === first);
    victim.kill('SIGKILL');
    const other = victim === a ? b : a;
    assert.ok(!victim.has((e) => e.event === 'done' && e.job === first), 'killed before it finished the job');
    const s = await waitFinished(redis.url, id);
    assert.equal(s.done, audio.length);
    assert.equal(s.failed, 2);
    assert.ok(other.has((e) => e.event === 'done' && e.job === first), 'the stalled job was finished by the other worker');
    checkResults(res);
    const r = await batchResults(redis.url, id);
    assert.equal(r.ok.length, audio.length);
    assert.deepEqual(r.failed.map((f) => f.audio).sort(), [poison, outside].sort());
    assert.match(r.failed.find((f) => f.audio === poison)!.error, /poison\.wav: .*(RIFF|WAV)/);
    assert.match(r.failed.find((f) => f.audio === outside)!.error, /outside --data-root/);
    // BullMQ's own failed list holds both, the poison file after its 2 attempts, the outside one after 1.
    const conn = new Redis(redis.url);
    const q = new Queue('transcribe', { connection: conn, prefix: PREFIX });
    const failed = await q.getFailed();
    const byId = new Map(failed.map((j) => [j.id, j]));
    const nPoison = audio.length, nOutside = audio.length + 1;
    assert.equal(byId.get(`${id}-${nPoison}`)?.attemptsMade, 2);
    assert.match(byId.get(`${id}-${nPoison}`)!.failedReason, /RIFF|WAV/);
    assert.equal(byId.get(`${id}-${nOutside}`)?.attemptsMade, 1);
    await q.close();
    conn.disconnect();
    // The CLI says the same.
    const st = cli(['batch', 'status', id, '--redis', redis.url]);
    assert.equal(st.status, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`${audio.length} done, 2 failed, 0 running, 0 waiting of ${audio.length + 2} \\(finished\\)`));
    const rs = cli(['batch', 'results', id, '--redis', redis.url]);
    assert.equal(rs.status, 1, 'failures make results exit 1');
    assert.equal(rs.stdout.trim().split('\n').filter((l) => l.startsWith('ok\t')).length, audio.length);
  });

  it('a training job: SIGTERM hands it back, SIGKILL leaves it stalled; each time another worker resumes from the checkpoint, and the adapter is valid', async () => {
    const live = await twoWorkers();
    const adapterDir = path.join(out, 'adapters', 'scottish');
    const EPOCHS = 12;
    const r = cli(['train', '--accent', 'scottish', '--queue', '--redis', redis.url, '--out', adapterDir, '--epochs', String(EPOCHS), '--patience', '30', '--speeds', '1']);
    assert.equal(r.status, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^train-[0-9a-f]{10}$/);
    const isStart = (e: Record<string, unknown>): boolean => e.event === 'start' && e.job === id;
    const epochAtLeast = (k: number) => (e: Record<string, unknown>): boolean => e.event === 'epoch' && e.job === id && (e.epoch as number) >= k;

    // 1. SIGTERM: the worker stops after its last checkpoint, hands the job back and exits 0.
    const first = await firstOf(live, epochAtLeast(2));
    first.kill('SIGTERM');
    assert.equal(await first.exited(), 0);
    assert.ok(first.has((e) => e.event === 'returned' && e.job === id), 'the job was handed back');
    const second = live.find((w) => w !== first)!;
    const r1 = await second.waitFor(isStart);
    const from1 = r1.resumeFromEpoch as number;
    assert.ok(from1 >= 1, `resumed after epoch ${from1}`);

    // 2. SIGKILL in the middle: the job stalls, and a third worker takes it when its lock expires.
    const third = spawnWorker(`W${workers.length}`);
    await third.waitFor((e) => e.event === 'ready');
    await second.waitFor(epochAtLeast(from1 + 2));
    second.kill('SIGKILL');
    const r2 = await third.waitFor(isStart);
    const from2 = r2.resumeFromEpoch as number;
    assert.ok(from2 >= from1 + 1, `resumed after epoch ${from2}`);
    await third.waitFor((e) => e.event === 'done' && e.job === id, 300000);
    const epochs = third.events.filter((e) => e.event === 'epoch' && e.job === id).map((e) => e.epoch as number);
    assert.deepEqual(epochs, Array.from({ length: EPOCHS - from2 }, (_, i) => from2 + 1 + i), 'no epoch trained twice by the last worker');

    const s = await trainStatus(redis.url, id);
    assert.equal(s.state, 'completed');
    assert.equal(s.result!.resumedFrom, from2);
    assert.equal(s.result!.out, adapterDir);
    // The adapter is whole, and it loads and transcribes.
    const a = loadAdapter(adapterDir);
    assert.equal(a.meta!.training.epochs, EPOCHS);
    assert.deepEqual(fs.readdirSync(path.dirname(adapterDir)), ['scottish'], 'the checkpoint folder is gone');
    const rec = await loadRecognizer({ adapter: adapterDir, threads: 1 });
    try {
      const t = await rec.transcribe(audio[1]);
      assert.ok(t.text.split(' ').length >= 2, t.text);
    } finally {
      await rec.release();
    }
  });

  it('Redis restarted during a batch: the workers reconnect, the batch completes with one result per file, and `batch submit --wait` waits it out', async () => {
    const live = workers.filter((w) => w.exitCode === undefined);
    const res = path.join(out, 'two');
    const waiter = spawn(process.execPath, [BIN, 'batch', 'submit', ...audio, '--redis', redis.url, '--format', 'json', '--out', res, '--wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    waiter.stdout!.on('data', (d) => { stdout += d; });
    waiter.stderr!.on('data', (d) => { stderr += d; });
    const waited = new Promise<number | null>((resolve) => waiter.once('exit', resolve));
    while (!/^[0-9a-f]{10}\n/.test(stdout)) {
      assert.equal(waiter.exitCode, null, stderr);
      await new Promise((r) => setTimeout(r, 10));
    }
    const id = stdout.trim();
    await firstOf(live, (e) => e.event === 'start' && typeof e.job === 'string' && e.job.startsWith(id));
    await redis.restart(1500);
    const back = new Date().toISOString();
    assert.equal(await waited, 0, stderr);
    assert.match(stderr, new RegExp(`batch ${id}: ${audio.length} done, 0 failed`));
    const s = await batchStatus(redis.url, id);
    assert.equal(s.done, audio.length);
    assert.equal(s.failed, 0);
    checkResults(res);
    assert.ok(live.every((w) => w.exitCode === undefined), 'no worker exited');
    assert.ok(live.some((w) => w.has((e) => e.event === 'done' && String(e.job).startsWith(id) && String(e.time) > back)), 'files were still done after the restart: it was mid-batch');
    assert.ok(live.some((w) => w.has((e) => /connection lost/.test(String(e.message)))), 'the loss is logged');
    assert.ok(live.some((w) => w.has((e) => /connected again/.test(String(e.message)))), 'and the recovery');
  });

  it('decoding options travel with the batch: the results equal transcribe with the same options', async () => {
    const live = await twoWorkers();
    const files = audio.slice(1, 5);
    const hot = path.join(data, 'hot.txt');
    fs.writeFileSync(hot, 'glasgow 3\n');
    const flags = ['--beam', '4', '--lm-weight', '0.2', '--hotwords', hot];
    const ref = path.join(tmp, 'ref-decode');
    const r = cli(['transcribe', ...files, '--format', 'json', '--out', ref, ...flags]);
    assert.equal(r.status, 0, r.stderr);
    const res = path.join(out, 'decode');
    const id = submit(redis.url, files, res, flags);
    const s = await waitFinished(redis.url, id);
    assert.equal(s.done, files.length);
    let differs = 0;
    for (const f of fs.readdirSync(ref)) {
      const got = fs.readFileSync(path.join(res, f), 'utf8');
      assert.equal(got, fs.readFileSync(path.join(ref, f), 'utf8'), f);
      if (got !== expected.get(f)) differs++;
    }
    assert.ok(differs > 0, 'the options changed at least one result');
    assert.ok(live.length >= 2);
  });

  it('SIGTERM: a worker finishes the job in hand, then exits 0', async () => {
    const live = await twoWorkers();
    const res = path.join(out, 'three');
    const id = submit(redis.url, audio, res);
    const first = `${id}-0`;
    const w = await firstOf(live, (e) => e.event === 'start' && e.job === first);
    w.kill('SIGTERM');
    assert.equal(await w.exited(), 0);
    assert.ok(w.has((e) => e.event === 'done' && e.job === first), 'the job in hand was finished');
    assert.ok(w.has((e) => e.event === 'stopped'));
    const s = await waitFinished(redis.url, id);
    assert.equal(s.done, audio.length);
    checkResults(res);
  });
});
