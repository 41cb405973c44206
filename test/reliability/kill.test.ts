/**
 * SIGKILL during `adapt-asr train`, at seeded random moments: the output path never shows a
 * half-written adapter, --resume finishes an interrupted run, and an existing adapter survives.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAdapter } from '../../lib/adapter/io.js';
import { ROOT } from '../helpers/fixtures.js';
import { importTestModelWithHead, smallScottishData } from '../helpers/models.js';
import { rng } from '../helpers/signals.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');

function killAfter(args: string[], ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
}

/** The output path holds nothing, or a complete adapter whose checksum verifies. */
function assertWholeOrAbsent(out: string): boolean {
  if (!fs.existsSync(out)) return false;
  loadAdapter(out); // throws on a missing or corrupt file
  return true;
}

describe('reliability: killing training', function () {
  this.timeout(600000);
  let dir: string, data: string, model: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-kill-'));
    model = (await importTestModelWithHead(dir, 'tiny')).dir;
    data = smallScottishData(dir, 24);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('6 kills at random moments: no half-written adapter, --resume finishes, the old adapter is never lost', async () => {
    const out = path.join(dir, 'adapters', 'k');
    const base = ['train', '--accent', 'k', '--data', data, '--model', model, '--out', out, '--epochs', '12', '--threads', '1'];
    // A good adapter first; its wall time scales the kill moments, so that they land across a run on a
    // loaded machine too (fixed times all fell before the first checkpoint with benchmarks running beside).
    const t0 = Date.now();
    assert.equal(spawnSync(process.execPath, [BIN, ...base], { encoding: 'utf8' }).status, 0);
    const runMs = Date.now() - t0;
    const r = rng(4242);
    let resumed = 0, killedEarly = 0;
    for (let k = 0; k < 6; k++) {
      const ms = Math.floor(runMs * (0.15 + 0.8 * r()));
      const code = await killAfter([...base, '--force'], ms);
      // (a) never half-written; (c) the previous adapter is there until a complete new one replaces it.
      assert.ok(assertWholeOrAbsent(out), `kill ${k} after ${ms} ms (exit ${code}): the adapter disappeared`);
      if (code === 0) continue; // finished before the kill
      const partial = path.join(dir, 'adapters', '.k.partial');
      if (fs.existsSync(path.join(partial, 'state.json'))) {
        // (b) resume finishes the interrupted run.
        const res = spawnSync(process.execPath, [BIN, ...base, '--resume'], { encoding: 'utf8' });
        assert.equal(res.status, 0, res.stderr);
        assert.ok(!fs.existsSync(partial));
        resumed++;
      } else {
        // Killed before the first checkpoint, or after the new adapter was complete: either way a
        // whole adapter is in place (checked above), the old one or the finished new one.
        killedEarly++;
      }
      assertWholeOrAbsent(out);
    }
    assert.ok(resumed >= 1, `only ${resumed} kills landed mid-training (${killedEarly} before a checkpoint or after the end)`);
  });
});
