/**
 * Batch transcription through the queue (BullMQ on a private redis-server): 30 minutes of real
 * speech (VCTK p239, then zh-L1 utterances to make up the time; ../shared/corpora/real) with the
 * default model, base-en-real, in the same run:
 *   - `adapt-asr transcribe --out` in one process (the reference, no queue);
 *   - 1 worker with 1 lane (2 ONNX Runtime threads, then 1) and with 2 lanes (the default here);
 *     2 and 3 worker processes of 1 lane and 1 thread; 2 workers of 2 lanes (more lanes than cores).
 * Each queue run starts its workers, warms them on 4 files (model load), then times the batch from
 * submission to its last result. Redis commands and network bytes per job come from INFO, counted
 * over the timed batch (idle polling of the workers included). Redis memory per job: 20,000 jobs
 * submitted with no worker running (waiting jobs), and what a finished job leaves behind.
 *
 *   node dist/bench/queue.js [--quick]      (also: npm run bench -- --only queue)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadAudio } from '../lib/audio/index.js';
import { KEEP_DAYS } from '../lib/queue/config.js';
import { batchStatus, submitBatch } from '../lib/queue/submit.js';
import { redisMissing, TestRedis } from '../test/helpers/redis.js';
import { machine, table } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');
const REAL = path.join(ROOT, '..', 'shared', 'corpora', 'real');

function pickAudio(minutes: number): { files: string[]; seconds: number } {
  const p239 = path.join(REAL, 'en-GB_vctk_p239'), zh = path.join(REAL, 'zh-L1_speechocean762_adults');
  const all = [p239, zh].flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.wav')).sort().map((f) => path.join(d, f)));
  const files: string[] = [];
  let seconds = 0;
  for (const f of all) {
    if (seconds >= minutes * 60) break;
    const a = loadAudio(f);
    seconds += a.samples.length / a.sampleRate;
    files.push(f);
  }
  return { files, seconds };
}

/** Commands Redis ran (those inside Lua scripts included), script calls, network bytes, memory. */
async function info(r: Redis): Promise<{ calls: number; scripts: number; bytes: number; memory: number }> {
  const cs = await r.info('commandstats'), st = await r.info('stats'), mem = await r.info('memory');
  let calls = 0, scripts = 0;
  for (const m of cs.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
    if (m[1] !== 'info') calls += Number(m[2]);
    if (m[1] === 'evalsha' || m[1] === 'eval') scripts += Number(m[2]);
  }
  const num = (s: string, k: string): number => Number(new RegExp(`${k}:(\\d+)`).exec(s)![1]);
  return { calls, scripts, bytes: num(st, 'total_net_input_bytes') + num(st, 'total_net_output_bytes'), memory: num(mem, 'used_memory') };
}

function startWorker(url: string, data: string, out: string, args: string[]): Promise<ChildProcess> {
  const p = spawn(process.execPath, [BIN, 'worker', '--redis', url, '--data-root', data, '--out-root', out, '--queues', 'transcribe', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stderr!.on('data', (d) => { buf += d; if (buf.includes('"event":"ready"')) resolve(p); });
    p.on('exit', (c) => reject(new Error(`worker exited ${c}: ${buf.slice(-500)}`)));
  });
}

async function waitDone(url: string, id: string): Promise<void> {
  for (;;) {
    const s = await batchStatus(url, id);
    if (s.finished) {
      if (s.failed) throw new Error(`batch ${id}: ${s.failed} failed`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Run { label: string; walls: number[]; perJob?: { calls: number; scripts: number; bytes: number } }

/** Each configuration runs this many times, in alternating order; the table gives the best (the VM is shared: single runs vary by up to 1.5x). */
const REPEATS = 2;

export async function benchQueue(quick = false): Promise<string> {
  const why = redisMissing();
  if (why) return `Not run: ${why}.`;
  if (!fs.existsSync(REAL)) return 'Not run: needs ../shared/corpora/real.';
  const minutes = quick ? 3 : 30;
  const { files, seconds } = pickAudio(minutes);
  const redis = await TestRedis.start();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-queue-'));
  const r = new Redis(redis.url);
  try {
    const configs: { label: string; workers: string[][] }[] = [
      { label: '1 worker, concurrency 1 (2 ONNX Runtime threads)', workers: [['--concurrency', '1']] },
      { label: '1 worker, concurrency 1, 1 thread', workers: [['--concurrency', '1', '--threads', '1']] },
      { label: '1 worker, concurrency 2 (the default here: 2 lanes of 1 thread)', workers: [[]] },
      { label: '2 workers, concurrency 1, 1 thread each', workers: [['--concurrency', '1', '--threads', '1'], ['--concurrency', '1', '--threads', '1']] },
      { label: '3 workers, concurrency 1, 1 thread each', workers: [['--concurrency', '1', '--threads', '1'], ['--concurrency', '1', '--threads', '1'], ['--concurrency', '1', '--threads', '1']] },
      { label: '2 workers, concurrency 2 each', workers: [[], []] },
    ];
    const REF = '`transcribe --out`, one process (no queue; model load included)';
    const runs = new Map<string, Run>([REF, ...configs.map((c) => c.label)].map((label) => [label, { label, walls: [] }]));
    let batches = 0;
    for (let rep = 0; rep < REPEATS; rep++) {
      // The reference: one process, no queue.
      const t0 = performance.now();
      const ref = spawnSync(process.execPath, [BIN, 'transcribe', ...files, '--format', 'json', '--out', path.join(tmp, 'ref')], { encoding: 'utf8' });
      if (ref.status !== 0) throw new Error(ref.stderr);
      runs.get(REF)!.walls.push((performance.now() - t0) / 1000);
      for (const c of rep % 2 ? [...configs].reverse() : configs) {
        const procs = await Promise.all(c.workers.map((a) => startWorker(redis.url, REAL, tmp, a)));
        const k = batches;
        batches += 2;
        try {
          const warm = await submitBatch({ redis: redis.url, inputs: files.slice(0, 4), out: path.join(tmp, `warm${k}`), format: 'json' });
          await waitDone(redis.url, warm.id);
          const before = await info(r);
          const t1 = performance.now();
          const b = await submitBatch({ redis: redis.url, inputs: files, out: path.join(tmp, `run${k}`), format: 'json' });
          await waitDone(redis.url, b.id);
          const run = runs.get(c.label)!;
          run.walls.push((performance.now() - t1) / 1000);
          const after = await info(r);
          run.perJob = { calls: (after.calls - before.calls) / files.length, scripts: (after.scripts - before.scripts) / files.length, bytes: (after.bytes - before.bytes) / files.length };
          // The queue must not change a result.
          for (const f of fs.readdirSync(path.join(tmp, 'ref'))) {
            if (fs.readFileSync(path.join(tmp, 'ref', f), 'utf8') !== fs.readFileSync(path.join(tmp, `run${k}`, f), 'utf8')) throw new Error(`${c.label}: ${f} differs from transcribe's`);
          }
          fs.rmSync(path.join(tmp, `run${k}`), { recursive: true });
        } finally {
          for (const p of procs) p.kill('SIGTERM');
          await Promise.all(procs.map((p) => new Promise((res) => (p.exitCode !== null ? res(0) : p.once('exit', res)))));
        }
      }
    }
    // Memory: after the runs, what finished batches leave (bookkeeping only; BullMQ removes completed jobs).
    const leftBatches = await info(r);
    await r.flushall();
    const empty = await info(r);
    const nJobs = quick ? 2000 : 20000;
    const manifest = path.join(tmp, 'many.txt');
    fs.writeFileSync(manifest, Array.from({ length: nJobs }, (_, i) => path.join(REAL, 'some-folder', `recording-${String(i).padStart(7, '0')}.wav`)).join('\n'));
    const tSubmit = performance.now();
    await submitBatch({ redis: redis.url, inputs: [manifest], out: path.join(tmp, 'many-out'), format: 'json' });
    const submitSec = (performance.now() - tSubmit) / 1000;
    const queued = await info(r);
    const waitingPerJob = (queued.memory - empty.memory) / nJobs;
    const donePerJob = (leftBatches.memory - empty.memory) / (batches / 2 * (files.length + 4));

    const best = (x: Run): number => Math.min(...x.walls);
    const base = best(runs.get(configs[1].label)!);
    const rows = [...runs.values()].map((x) => [x.label, `${best(x).toFixed(1)} (${x.walls.map((w) => w.toFixed(1)).join(', ')})`, (seconds / best(x)).toFixed(1), (base / best(x)).toFixed(2),
      x.perJob ? x.perJob.calls.toFixed(0) : '', x.perJob ? x.perJob.scripts.toFixed(1) : '', x.perJob ? (x.perJob.bytes / 1024).toFixed(1) : '']);
    return [
      '## Batch jobs through the queue (`bench/queue`)',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} by \`node dist/bench/queue.js${quick ? ' --quick' : ''}\`: ${files.length} files, ${(seconds / 60).toFixed(1)} min of real speech (VCTK p239, then zh-L1 utterances), model base-en-real, JSON results; redis-server ${spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=([\d.]+)/)?.[1] ?? '?'} on the same machine. Each configuration ran ${REPEATS} times in alternating order; the best run counts (the VM is shared). Every queue run's results are byte-identical to transcribe's.`,
      '',
      table(['how', 'wall s, best (each run)', 'x real time', 'speed-up vs 1 lane of 1 thread', 'Redis commands / job (inside scripts too)', 'of which Lua script calls', 'Redis traffic KB / job'], rows),
      '',
      `Submitting ${nJobs.toLocaleString('en')} jobs took ${submitSec.toFixed(1)} s (${Math.round(nJobs / submitSec).toLocaleString('en')} jobs/s). Redis memory: ${(waitingPerJob).toFixed(0)} bytes per waiting job (${nJobs.toLocaleString('en')} submitted with no worker running), so ${(waitingPerJob * 1e6 / 2 ** 30).toFixed(2)} GiB per million waiting jobs; a finished job leaves ${donePerJob.toFixed(0)} bytes of batch bookkeeping (its file and result names) for ${KEEP_DAYS} days, ${(donePerJob * 1e6 / 2 ** 20).toFixed(0)} MiB per million.`,
    ].join('\n');
  } finally {
    r.disconnect();
    await redis.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write(`${await benchQueue(process.argv.includes('--quick'))}\n`);
}
