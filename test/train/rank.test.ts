/** `rank`: models scored on a sample of the user's data, an adaptation probe each, a recommendation. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importModel } from '../../lib/encoder/import.js';
import { rankModels } from '../../lib/train/rank.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCOT = path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test');

describe('rank', function () {
  this.timeout(300_000);
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-rank-test-')); });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('ranks base-en above a random-weight model, lists a model without a head with the reason, and recommends base-en', async () => {
    const modelsDir = path.join(tmp, 'models');
    await importModel(path.join(ROOT, 'test', 'fixtures', 'encoders', 'whisper', 'encoder_model.onnx'), { kind: 'whisper', name: 'headless', modelsDir });
    const logs: string[] = [];
    const r = await rankModels({ data: SCOT, models: ['headless', path.join(ROOT, 'test', 'fixtures', 'encoders', 'ours-top'), 'base-en'], modelsDir, minutes: 1, onLog: (l) => logs.push(l) });
    assert.deepEqual(r.rows.map((x) => x.model), ['base-en', 'tiny-top', 'headless']);
    const [base, tiny, headless] = r.rows;
    assert.ok(base.wer! > 0 && base.wer! < 0.5, `base-en WER ${base.wer}`);
    assert.ok(tiny.wer! > 0.9, `random model WER ${tiny.wer}`);
    assert.ok(base.rtf! > 0 && base.sizeMB > 5);
    assert.ok(base.probe && typeof base.probe.accepted === 'boolean' && base.probe.seconds > 0);
    assert.equal(base.expectedWer, base.probe!.accepted ? base.wer! * (1 - base.probe!.gain) : base.wer);
    assert.equal(headless.usable, false);
    assert.match(headless.why!, /no CTC head yet: .*--method head --as-base/);
    assert.equal(r.recommendation?.model, 'base-en');
    assert.match(r.recommendation!.reason, /lowest expected WER on your sample: \d+\.\d%/);
    assert.ok(r.sample.minutes > 0.5 && r.sample.minutes < 1.5, `sample ${r.sample.minutes} min`);
    assert.ok(logs.some((l) => /adaptation probe/.test(l)));
  });

  it('the command prints a table and the recommendation; --json and bad input', () => {
    const bin = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');
    const r = spawnSync(process.execPath, [bin, 'rank', '--data', SCOT, '--models', 'base-en', '--minutes', '0.5', '--no-probe', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.rows[0].model, 'base-en');
    assert.equal(j.rows[0].probe, undefined);
    const bad = spawnSync(process.execPath, [bin, 'rank', '--data', path.join(tmp, 'nope')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr.trim(), /^adapt-asr: .*nope/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  });
});
