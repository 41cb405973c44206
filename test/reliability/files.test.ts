/** Adapter files that are corrupt, truncated, of another version or for another model; limits; concurrency. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { loadAdapter } from '../../lib/adapter/io.js';
import { trainAdapter } from '../../lib/train/trainer.js';
import { audioFixture, ROOT } from '../helpers/fixtures.js';
import { importTestModelWithHead, smallScottishData } from '../helpers/models.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');

describe('reliability: adapter files, limits, concurrency', function () {
  this.timeout(300000);
  let dir: string, data: string, model: string, good: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-files-'));
    model = (await importTestModelWithHead(dir, 'tiny')).dir;
    data = smallScottishData(dir, 12);
    good = path.join(dir, 'adapters', 'good');
    await trainAdapter({ accent: 'good', data, model, out: good, epochs: 2, threads: 1 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const copy = (name: string, edit: (d: string) => void): string => {
    const d = path.join(dir, 'adapters', name);
    fs.cpSync(good, d, { recursive: true });
    edit(d);
    return d;
  };

  it('refuses corrupt, truncated, other-version and other-model adapters, saying what to do', async () => {
    const cases: [string, (d: string) => void, RegExp][] = [
      ['flipped', (d) => { const b = fs.readFileSync(path.join(d, 'weights.bin')); b[10] ^= 0xff; fs.writeFileSync(path.join(d, 'weights.bin'), b); }, /weights checksum does not match adapter\.json: the file is corrupt or truncated; retrain/],
      ['truncated', (d) => { const b = fs.readFileSync(path.join(d, 'weights.bin')); fs.writeFileSync(path.join(d, 'weights.bin'), b.subarray(0, 100)); }, /checksum does not match/],
      ['noweights', (d) => fs.rmSync(path.join(d, 'weights.bin')), /weights file is missing; retrain the adapter/],
      ['version', (d) => { const m = JSON.parse(fs.readFileSync(path.join(d, 'adapter.json'), 'utf8')); m.version = 7; fs.writeFileSync(path.join(d, 'adapter.json'), JSON.stringify(m)); }, /adapter format version 7 is not supported .* retrain the adapter/],
      ['notjson', (d) => fs.writeFileSync(path.join(d, 'adapter.json'), '{'), /adapter\.json is unreadable or not JSON/],
    ];
    for (const [name, edit, pattern] of cases) assert.throws(() => loadAdapter(copy(name, edit)), pattern, name);
    const other = copy('other', (d) => { const m = JSON.parse(fs.readFileSync(path.join(d, 'adapter.json'), 'utf8')); m.base.encoderSha256 = 'f'.repeat(64); fs.writeFileSync(path.join(d, 'adapter.json'), JSON.stringify(m)); });
    await assert.rejects(loadRecognizer({ model, adapter: other, threads: 1 }), /adapter was trained for base model 'tiny' .*use --model tiny or retrain the adapter/);
  });

  it('transcribe warns when the adapter did not beat the base model in training', () => {
    const r = spawnSync(process.execPath, [BIN, 'transcribe', audioFixture('speech-en-us-16k.wav'), '--model', model, '--adapter', good, '--threads', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: this adapter was (NOT better than the base model|not judged)/);
  });

  it('limits: a file over --max-audio-seconds or --max-file-mb is refused with one line', () => {
    const long = spawnSync(process.execPath, [BIN, 'features', audioFixture('speech-en-us-16k.wav'), '--out', path.join(dir, 'x.npy'), '--max-audio-seconds', '2'], { encoding: 'utf8' });
    assert.equal(long.status, 1);
    assert.match(long.stderr, /audio is 3 s long, over the limit of 2 s/);
    const big = spawnSync(process.execPath, [BIN, 'features', audioFixture('speech-en-us-16k.wav'), '--out', path.join(dir, 'x.npy'), '--max-file-mb', '0.01'], { encoding: 'utf8' });
    assert.equal(big.status, 1);
    assert.match(big.stderr, /over the limit of 10485 bytes/);
    assert.equal(spawnSync(process.execPath, [BIN, 'info', '--max-file-mb', '-1'], { encoding: 'utf8' }).status, 2);
  });

  it('two processes train different accents into the same adapters folder at once', async () => {
    const run = (accent: string): Promise<number | null> => new Promise((resolve) => {
      const c = spawn(process.execPath, [BIN, 'train', '--accent', accent, '--data', data, '--model', model, '--out', path.join(dir, 'shared', accent), '--epochs', '3', '--threads', '1'], { stdio: 'ignore' });
      c.on('exit', resolve);
    });
    assert.deepEqual(await Promise.all([run('one'), run('two')]), [0, 0]);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'shared')).sort(), ['one', 'two']);
    for (const a of ['one', 'two']) assert.equal(loadAdapter(path.join(dir, 'shared', a)).meta.accent, a);
  });
});
