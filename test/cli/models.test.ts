import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/fixtures.js';
import { encoderFixture } from '../helpers/models.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');

describe('cli: models list / inspect / import', function () {
  this.timeout(60000);
  let dir: string;
  const run = (...args: string[]): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ADAPT_ASR_MODELS_DIR: dir } });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-models-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('inspect an ONNX file: inputs, outputs, shapes, parameters, opset, and the kinds it fits', () => {
    const r = run('models', 'inspect', encoderFixture('wav2vec2-ctc/model.onnx'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /input_values {2}float32 {2}\[batch_size, sequence_length\]/);
    assert.match(r.stdout, /logits {2}float32 {2}\[batch_size, frames, 32\]/);
    assert.match(r.stdout, /parameters: 1,\d{3}/);
    assert.match(r.stdout, /opsets ai\.onnx 17/);
    assert.match(r.stdout, /fits kind waveform/);
    assert.match(r.stdout, /does not fit kind whisper: no input named input_features/);
    const j = JSON.parse(run('models', 'inspect', '--json', encoderFixture('whisper/encoder_model.onnx')).stdout);
    assert.equal(j.kinds.whisper.fits, true);
    assert.equal(j.kinds.whisper.preset, 'whisper-80');
    assert.deepEqual(j.inputs[0].shape, ['batch_size', 80, 3000]);
  });

  it('import writes a model directory; list shows it; inspect of the directory checks the checksum', () => {
    const r = run('models', 'import', encoderFixture('wav2vec2-ctc/model.onnx'), '--kind', 'waveform', '--name', 'w2v-ctc');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported w2v-ctc .*waveform encoder, 32 per frame every 20 ms/);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'w2v-ctc', 'model.json'), 'utf8'));
    assert.equal(m.encoder.output.name, 'logits');
    assert.equal(m.encoder.output.type, 'logits');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'w2v-ctc')).sort(), ['encoder.onnx', 'model.json']);
    assert.match(run('models', 'list').stdout, /w2v-ctc {2}waveform {2}waveform {2}d=32 {2}20 ms/);
    const insp = run('models', 'inspect', path.join(dir, 'w2v-ctc'));
    assert.match(insp.stdout, /checksum: ok/);
  });

  it('import of the Whisper encoder takes the preset from its mel count; features needs a matching preset', () => {
    assert.equal(run('models', 'import', encoderFixture('whisper/encoder_model.onnx'), '--kind', 'whisper', '--name', 'wt').code, 0);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'wt', 'model.json'), 'utf8')).frontEnd.preset, 'whisper-80');
    const bad = run('models', 'import', encoderFixture('ours/encoder.onnx'), '--kind', 'features', '--name', 'o128', '--preset', 'whisper-128');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /does not fit encoder kind 'features': input features \[batch, time, 80\] has no dimension of 128 for preset whisper-128/);
  });

  it('refuses a file whose inputs and outputs do not fit the kind, saying why, and writes nothing', () => {
    const cases: [string, string, RegExp][] = [
      ['wav2vec2/model.onnx', 'whisper', /no input named input_features \[batch, n_mels, 3000\] \(it has input_values/],
      ['whisper/encoder_model.onnx', 'waveform', /no input named input_values/],
      ['whisper/encoder_model.onnx', 'features', /fixed length of 3000 frames.*use --kind whisper/],
      ['broken/whisper-wrong-input-name.onnx', 'whisper', /no input named input_features .*\(it has mel/],
      ['broken/not-onnx.onnx', 'whisper', /not a readable ONNX file/],
    ];
    for (const [file, kind, pattern] of cases) {
      const r = run('models', 'import', encoderFixture(file), '--kind', kind, '--name', 'refused');
      assert.equal(r.code, 1, `${file} as ${kind}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.ok(!fs.existsSync(path.join(dir, 'refused')));
    }
    assert.ok(!fs.readdirSync(dir).some((f) => f.startsWith('.')), 'temporary folder left behind');
  });

  it('an existing model is not replaced without --force (usage error, exit 2)', () => {
    const args = ['models', 'import', encoderFixture('ours/encoder.onnx'), '--kind', 'features', '--name', 'ours'];
    assert.equal(run(...args).code, 0);
    const again = run(...args);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /a model named 'ours' already exists .*use --force/);
    assert.equal(run(...args, '--force').code, 0);
  });

  it('list reports an invalid model folder instead of failing', () => {
    fs.mkdirSync(path.join(dir, 'broken'));
    fs.writeFileSync(path.join(dir, 'broken', 'model.json'), '{"format": "something-else"}');
    const r = run('models', 'list');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /broken {2}\(user\) {2}INVALID: .*format must be "adapt-asr-model"/);
    assert.match(r.stdout, /base-en {2}features {2}kaldi-fbank-80 {2}d=256 {2}40 ms {2}ctc-head\(phones\) {2}trainable-top\(2\) {2}\(bundled/);
  });
});
