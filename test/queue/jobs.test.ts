import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backoffMs, checkRedisUrl, isRedisDown, redact } from '../../lib/queue/config.js';
import { BadJobError, JOB_VERSION, parseTrainJob, parseTranscribeJob, Roots } from '../../lib/queue/jobs.js';
import { listAudio, resultFiles } from '../../lib/queue/submit.js';
import { resolveWorkerOptions } from '../../lib/queue/worker.js';
import { ROOT } from '../helpers/fixtures.js';
import { freePort } from '../helpers/redis.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');

describe('queue: jobs, paths and options', () => {
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-jobs-')); });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('Roots: paths under a root pass; .., other folders and symbolic links out of a root fail', () => {
    const data = path.join(tmp, 'data'), out = path.join(tmp, 'out'), elsewhere = path.join(tmp, 'elsewhere');
    for (const d of [data, out, elsewhere]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(elsewhere, 'secret.wav'), 'x');
    fs.symlinkSync(elsewhere, path.join(data, 'link'));
    const roots = new Roots(data, out);
    assert.equal(roots.check(path.join(data, 'a', 'b.wav'), 'audio file', ['data']), path.join(data, 'a', 'b.wav'));
    assert.equal(roots.check(path.join(out, 'new', 'r.json'), 'result file', ['out']), path.join(out, 'new', 'r.json'));
    assert.throws(() => roots.check(path.join(data, '..', 'elsewhere', 'secret.wav'), 'audio file', ['data']), /audio file .* is outside --data-root/);
    assert.throws(() => roots.check(path.join(data, 'link', 'secret.wav'), 'audio file', ['data']), BadJobError);
    assert.throws(() => roots.check(path.join(data, 'x.json'), 'result file', ['out']), /outside --out-root/);
    assert.equal(roots.check(path.join(out, 'adapters', 'x'), 'adapter', ['data', 'out']), path.join(out, 'adapters', 'x'));
    assert.throws(() => roots.check(`${data}-sibling/x.wav`, 'audio file', ['data']), /outside/, 'a sibling whose name starts like the root');
  });

  it('job data is checked field by field', () => {
    const ok = { v: JOB_VERSION, batch: 'abc', n: 3, audio: '/d/a.wav', out: '/o/a.json', format: 'json' };
    assert.deepEqual(parseTranscribeJob(ok), { ...ok, model: undefined, adapter: undefined });
    assert.throws(() => parseTranscribeJob({ ...ok, v: 99 }), /version 99/);
    assert.throws(() => parseTranscribeJob({ ...ok, audio: 'a.wav' }), /absolute path/);
    assert.throws(() => parseTranscribeJob({ ...ok, format: 'doc' }), /format/);
    assert.throws(() => parseTranscribeJob({ ...ok, n: -1 }), /whole number/);
    assert.throws(() => parseTranscribeJob('x'), /not an object/);
    const decode = { beam: 4, useLm: false, lexicon: true, hotwords: [{ phrase: 'glasgow', boost: 2 }] };
    assert.deepEqual(parseTranscribeJob({ ...ok, decode }).decode, decode);
    assert.throws(() => parseTranscribeJob({ ...ok, decode: { beam: 'wide' } }), /'beam' must be a number/);
    assert.throws(() => parseTranscribeJob({ ...ok, decode: { lm: 'rel.arpa' } }), /absolute path/);
    assert.throws(() => parseTranscribeJob({ ...ok, decode: { cmd: 'rm' } }), /'cmd' is not a decoding option/);
    assert.throws(() => parseTranscribeJob({ ...ok, decode: { hotwords: [{ phrase: 1 }] } }), /hotwords/);
    const t = { v: JOB_VERSION, options: { accent: 'scottish', out: '/o/ad', epochs: 3, speeds: [1], method: 'head' } };
    assert.deepEqual(parseTrainJob(t).options, { accent: 'scottish', out: '/o/ad', data: undefined, devData: undefined, model: undefined, epochs: 3, speeds: [1], method: 'head' });
    assert.throws(() => parseTrainJob({ ...t, options: { ...t.options, resume: true } }), /'resume' is not a train option/);
    assert.throws(() => parseTrainJob({ ...t, options: { ...t.options, accent: '../x' } }), /accent/);
    assert.throws(() => parseTrainJob({ ...t, options: { ...t.options, epochs: 'many' } }), /'epochs' must be a number/);
    assert.throws(() => parseTrainJob({ ...t, options: { ...t.options, method: 'all' } }), /'method' must be one of/);
  });

  it('inputs: folders, .jsonl and path-list manifests (relative to the manifest); one name twice is refused', () => {
    const d = path.join(tmp, 'in');
    fs.mkdirSync(path.join(d, 'sub'), { recursive: true });
    for (const f of ['b.wav', 'a.wav', 'notes.txt']) fs.writeFileSync(path.join(d, f), '');
    fs.writeFileSync(path.join(d, 'sub', 'a.wav'), '');
    assert.deepEqual(listAudio([d]), [path.join(d, 'a.wav'), path.join(d, 'b.wav')]);
    fs.writeFileSync(path.join(d, 'm.jsonl'), '{"audio_filepath": "sub/a.wav", "text": "x"}\n\n{"audio_filepath": "/abs/c.wav"}\n');
    assert.deepEqual(listAudio([path.join(d, 'm.jsonl')]), [path.join(d, 'sub', 'a.wav'), '/abs/c.wav']);
    fs.writeFileSync(path.join(d, 'list.txt'), '# files\nb.wav\nsub/a.wav\n');
    assert.deepEqual(listAudio([path.join(d, 'list.txt')]), [path.join(d, 'b.wav'), path.join(d, 'sub', 'a.wav')]);
    fs.writeFileSync(path.join(d, 'transcripts.tsv'), 'b.wav\tsome words\nsub/a.wav\tmore\n');
    assert.deepEqual(listAudio([path.join(d, 'transcripts.tsv')]), [path.join(d, 'b.wav'), path.join(d, 'sub', 'a.wav')]);
    fs.writeFileSync(path.join(d, 'bad.jsonl'), '{"text": "x"}\n');
    assert.throws(() => listAudio([path.join(d, 'bad.jsonl')]), /bad\.jsonl: line 1: needs "audio_filepath"/);
    assert.throws(() => listAudio([path.join(d, 'nope')]), /nope: no such file or folder/);
    assert.deepEqual(resultFiles(['/x/a.wav', '/x/b.WAV'], '/o', 'srt'), ['/o/a.srt', '/o/b.srt']);
    assert.throws(() => resultFiles([path.join(d, 'a.wav'), path.join(d, 'sub', 'a.wav')], '/o', 'json'), /would both write a\.json/);
  });

  it('Redis URLs, reconnection backoff and worker options', () => {
    assert.equal(checkRedisUrl('redis://h:1'), 'redis://h:1');
    assert.throws(() => checkRedisUrl(undefined), /--redis is required/);
    assert.throws(() => checkRedisUrl('http://h'), /not a redis:\/\//);
    assert.throws(() => checkRedisUrl('nonsense'), /not a URL/);
    assert.equal(redact('redis://u:secret@h:1'), 'redis://u:***@h:1');
    const ms = Array.from({ length: 12 }, (_, i) => backoffMs(i + 1, () => 0.5));
    assert.deepEqual(ms.slice(0, 3), [200, 400, 800]);
    assert.ok(ms.every((x, i) => i === 0 || x >= ms[i - 1]) && Math.max(...ms) === 10000, 'doubles up to 10 s');
    assert.ok(backoffMs(1, () => 0) >= 150 && backoffMs(1, () => 1) <= 250, 'jitter within ±25%');
    const o = resolveWorkerOptions({ redis: 'redis://h:1', dataRoot: tmp, outRoot: tmp, concurrency: 2 });
    assert.deepEqual([o.queues, o.concurrency, o.lockSeconds, o.keepModels, o.threads], [['transcribe', 'train'], 2, 30, 4, Math.max(1, Math.floor(os.availableParallelism() / 2))]);
    assert.throws(() => resolveWorkerOptions({ redis: 'redis://h:1', dataRoot: '', outRoot: tmp }), /--data-root is required/);
    assert.throws(() => resolveWorkerOptions({ redis: 'redis://h:1', dataRoot: path.join(tmp, 'no'), outRoot: tmp }), /--data-root .* is not a folder/);
    assert.throws(() => resolveWorkerOptions({ redis: 'redis://h:1', dataRoot: tmp, outRoot: tmp, queues: ['x' as 'train'] }), /unknown queue 'x'/);
    assert.throws(() => resolveWorkerOptions({ redis: 'redis://h:1', dataRoot: tmp, outRoot: tmp, concurrency: 0 }), /--concurrency/);
    // Redis away (waited out by --wait) or a fault of the request (thrown at once).
    for (const m of ['cannot reach Redis at redis://h:1: connect ECONNREFUSED', 'Connection is closed.', "Stream isn't writeable and enableOfflineQueue options is false", 'Reached the max retries per request limit (which is 2).']) {
      assert.equal(isRedisDown(new Error(m)), true, m);
    }
    assert.equal(isRedisDown(Object.assign(new Error('read'), { code: 'ECONNRESET' })), true);
    for (const m of ['batch abc: no such batch', 'WRONGTYPE Operation against a key holding the wrong kind of value']) assert.equal(isRedisDown(new Error(m)), false, m);
  });

  it('a worker whose Redis is down logs each kind of failure once, keeps retrying, and still stops on SIGTERM (exit 0)', async function () {
    this.timeout(60000);
    const port = await freePort(); // nothing listens there
    const w = spawn(process.execPath, [BIN, 'worker', '--redis', `redis://127.0.0.1:${port}`, '--data-root', tmp, '--out-root', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    w.stderr!.on('data', (d) => { err += d; });
    const exited = new Promise<number | null>((resolve) => w.once('exit', resolve));
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(w.exitCode, null, 'still running, retrying');
    w.kill('SIGTERM');
    const t0 = Date.now();
    assert.equal(await exited, 0, err);
    assert.ok(Date.now() - t0 < 20000, 'stopped within the grace period');
    const refused = err.split('\n').filter((l) => /queue transcribe: connect ECONNREFUSED/.test(l));
    assert.equal(refused.length, 1, 'each kind of failure logged once a minute');
    assert.match(err, /Redis did not confirm the last jobs within 10 s; closing anyway/);
    assert.match(err, /"event":"stopped"/);
  });

  it('CLI: usage errors exit 2 with one line; an unreachable Redis exits 1', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ADAPT_ASR_REDIS: '' }, timeout: 60000 });
    const cases: [string[], number, RegExp][] = [
      [['batch', 'submit', tmp, '--out', tmp], 2, /--redis is required/],
      [['batch', 'submit', tmp, '--redis', 'redis://127.0.0.1:1'], 2, /needs --out/],
      [['batch', 'status', 'zz', '--redis', 'redis://127.0.0.1:1'], 2, /not a batch id/],
      [['batch', 'status', 'train-1', '--redis', 'redis://127.0.0.1:1'], 2, /not a training job id/],
      [['worker', '--redis', 'redis://127.0.0.1:1', '--out-root', tmp], 2, /--data-root is required/],
      [['train', '--accent', 'x', '--queue', '--redis', 'redis://127.0.0.1:1'], 2, /needs --out/],
      [['train', '--accent', 'x', '--queue', '--redis', 'redis://127.0.0.1:1', '--out', tmp, '--resume'], 2, /--resume does not apply/],
      [['batch', 'status', 'abcdefabcd', '--redis', 'redis://127.0.0.1:1'], 1, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/],
    ];
    for (const [args, code, re] of cases) {
      const r = run(args);
      assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
