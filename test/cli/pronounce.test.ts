import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../helpers/fixtures.js';
import fs from 'node:fs';
import os from 'node:os';
import { importTestModelWithHead } from '../helpers/models.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');
const run = (...args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

describe('cli: pronounce', function () {
  this.timeout(60000);

  it('shows cmudict phones, or a guess marked as such, for each normalised word', () => {
    const r = run('pronounce', 'Loch', "violinist's", '2');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['loch  /L AA K/  dictionary', "violinist's  /V AY AH L IH N AH S T S/  guessed", 'two  /T UW/  dictionary']);
    const g = run('pronounce', 'auchtermuchty');
    assert.match(g.stdout, /^auchtermuchty {2}\/(AA|AW|AO) K T ER M AH K T IY\/ {2}guessed\n$/);
  });

  it('a model without pronunciations, or no such model, is a one-line error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-pronounce-'));
    try {
      const chars = await importTestModelWithHead(dir, 'tiny-chars');
      const r = run('pronounce', 'loch', '--model', chars.dir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^adapt-asr: .*tiny-chars: model 'tiny-chars' spells words letter by letter; it has no pronunciations\n$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const n = run('pronounce', 'loch', '--model', '/nonexistent-model');
    assert.equal(n.code, 1);
    assert.match(n.stderr, /^adapt-asr: no model '\/nonexistent-model'/);
  });
});
