import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { audioFixture, ROOT, wavFixture } from '../helpers/fixtures.js';
import { importTestModelWithHead } from '../helpers/models.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');

describe('cli: transcribe and eval (tiny model)', function () {
  this.timeout(120000);
  let dir: string;
  const run = (...args: string[]): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--models-dir', dir, '--threads', '1'], { encoding: 'utf8' });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-tr-'));
    await importTestModelWithHead(dir, 'tiny');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('one file: text on stdout; json has text and words with start, end, confidence', () => {
    const t = run('transcribe', audioFixture('speech-en-us-16k.wav'), '--model', 'tiny');
    assert.equal(t.code, 0, t.stderr);
    const j = run('transcribe', audioFixture('speech-en-us-16k.wav'), '--model', 'tiny', '--format', 'json');
    const o = JSON.parse(j.stdout);
    assert.equal(t.stdout, `${o.text}\n`);
    assert.ok(Array.isArray(o.words));
    for (const w of o.words) assert.deepEqual(Object.keys(w).sort(), ['confidence', 'end', 'start', 'word']);
  });

  it('several files and a folder: one JSON array; a bad file is reported, skipped, and the exit code is 1', () => {
    const folder = path.join(dir, 'in');
    fs.mkdirSync(folder);
    fs.copyFileSync(audioFixture('speech-en-us-16k.wav'), path.join(folder, 'a.wav'));
    fs.copyFileSync(wavFixture('truncated-data.wav'), path.join(folder, 'b.wav'));
    fs.copyFileSync(audioFixture('chirp-noise-16k.wav'), path.join(folder, 'c.wav'));
    const r = run('transcribe', folder, '--model', 'tiny');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /skipped .*b\.wav: truncated WAV file/);
    assert.match(r.stderr, /1 of 3 files failed/);
    const arr = JSON.parse(r.stdout);
    assert.deepEqual(arr.map((x: { file: string }) => path.basename(x.file)), ['a.wav', 'c.wav']);
  });

  it('--out writes one file per input in the chosen format', () => {
    const out = path.join(dir, 'captions');
    const r = run('transcribe', audioFixture('speech-en-us-16k.wav'), audioFixture('chirp-noise-16k.wav'), '--model', 'tiny', '--format', 'vtt', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['chirp-noise-16k.vtt', 'speech-en-us-16k.vtt']);
    assert.match(fs.readFileSync(path.join(out, 'speech-en-us-16k.vtt'), 'utf8'), /^WEBVTT\n/);
  });

  it('eval --json prints the counts; --beam 1 --no-lm is accepted; bad options are usage errors', () => {
    const data = path.join(ROOT, 'audio-fixtures');
    const r = run('eval', '--data', data, '--model', 'tiny', '--json', '--beam', '1', '--no-lm');
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    for (const k of ['wer', 'cer', 'utterances', 'words', 'substitutions', 'deletions', 'insertions']) assert.equal(typeof o[k], 'number', k);
    assert.equal(o.utterances, 2);
    assert.equal(o.words, 9 + 15);
    assert.equal(run('eval', '--model', 'tiny').code, 2);
    const cmp = run('eval', '--data', data, '--model', 'tiny', '--compare');
    assert.equal(cmp.code, 2);
    assert.match(cmp.stderr, /--compare needs --accent or --adapter/);
    const missing = run('transcribe', audioFixture('speech-en-us-16k.wav'), '--model', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no model 'nope'/);
    const hot = path.join(dir, 'hot.txt');
    fs.writeFileSync(hot, 'glasgow 2\nedinburgh castle\n');
    assert.equal(run('transcribe', audioFixture('speech-en-us-16k.wav'), '--model', 'tiny', '--hotwords', hot).code, 0);
    fs.writeFileSync(hot, 'glasgow 99\n');
    assert.match(run('transcribe', audioFixture('speech-en-us-16k.wav'), '--model', 'tiny', '--hotwords', hot).stderr, /boost must be in \(0, 20\]/);
    const pen = run('transcribe', audioFixture('speech-en-us-16k.wav'), '--model', 'tiny', '--oov-penalty', '-2');
    assert.equal(pen.code, 2);
    assert.match(pen.stderr, /^adapt-asr: oov penalty must be a number >= 0, got -2\n$/);
    const blank = run('transcribe', audioFixture('speech-en-us-16k.wav'), '--model', 'tiny', '--blank-penalty', '50');
    assert.equal(blank.code, 2);
    assert.match(blank.stderr, /^adapt-asr: blank penalty must be a number from -20 to 20, got 50\n$/);
  });
});
