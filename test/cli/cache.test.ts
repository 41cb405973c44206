/** `adapt-asr cache`: where the encoding cache is and how big; --clear empties it; a bad limit is a usage error. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EncodingCache } from '../../lib/encoder/cache.js';
import { ROOT } from '../helpers/fixtures.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');

describe('cli: cache', () => {
  let dir: string;
  const run = (env: Record<string, string>, ...args: string[]) => spawnSync(process.execPath, [BIN, 'cache', ...args], { encoding: 'utf8', timeout: 60000, env: { ...process.env, ...env } });
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-cache-cli-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows the folder, entries and size; --clear empties it', () => {
    const cache = new EncodingCache(dir, 2 ** 30);
    cache.put('ab'.repeat(32), new Float32Array(1000), 10, 100, 1.5);
    cache.put('cd'.repeat(32), new Float32Array(500), 5, 100, 0.5);
    const env = { ADAPT_ASR_CACHE: dir, ADAPT_ASR_CACHE_MB: '512' };
    const r = run(env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${path.join(dir, 'encodings')}: 2 entries, 0.0 MB of 512.0 MB`);
    const c = run(env, '--clear');
    assert.equal(c.status, 0, c.stderr);
    assert.equal(c.stdout.trim(), `removed 2 entries from ${path.join(dir, 'encodings')}`);
    assert.equal(new EncodingCache(dir).stats().entries, 0);
  });

  it('a limit that is not a number is a usage error naming the variable', () => {
    const r = run({ ADAPT_ASR_CACHE: dir, ADAPT_ASR_CACHE_MB: 'lots' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), "adapt-asr: ADAPT_ASR_CACHE_MB must be a number of megabytes (0 turns the cache off), got 'lots'");
  });
});
