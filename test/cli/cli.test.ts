import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { loadAudio } from '../../lib/audio/index.js';
import { computeFeatures } from '../../lib/features/index.js';
import { readNpy } from '../../lib/io/npy.js';
import { maxAbsDiff } from '../helpers/assert-close.js';
import { audioFixture, ROOT, wavFixture } from '../helpers/fixtures.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('cli', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-cli-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('features writes the same array as the library, and a PNG of frames x (2 * mels)', () => {
    const out = path.join(dir, 'talk.npy'), png = path.join(dir, 'talk.png');
    const r = run('features', audioFixture('speech-en-us-16k.wav'), '--preset', 'kaldi-fbank-80', '--out', out, '--png', png);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /318 frames x 80 \(kaldi-fbank-80\) from 3\.20 s of audio/);
    const npy = readNpy(out);
    const lib = computeFeatures(loadAudio(audioFixture('speech-en-us-16k.wav')), 'kaldi-fbank-80');
    assert.deepEqual(npy.shape, [318, 80]);
    assert.equal(maxAbsDiff(npy.data, lib.data), 0);
    const img = PNG.sync.read(fs.readFileSync(png));
    assert.equal(img.width, 318);
    assert.equal(img.height, 160);
    // Low bands (bottom rows) of speech are brighter on average than the top rows.
    const rowMean = (y: number): number => {
      let s = 0;
      for (let x = 0; x < img.width; x++) s += img.data[4 * (y * img.width + x)] + img.data[4 * (y * img.width + x) + 1];
      return s / img.width;
    };
    assert.ok(rowMean(img.height - 20) > rowMean(2), 'bottom of the picture should hold the strong low bands');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['talk.npy', 'talk.png'], 'no temporary files left');
  });

  it('features defaults to whisper-80 and reads a 44.1 kHz stereo file', () => {
    const out = path.join(dir, 'w.npy');
    const r = run('features', wavFixture('sine1k-stereo-44k1-pcm24.wav'), '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readNpy(out).shape, [25, 80]);
  });

  const usage: [string, string[], RegExp][] = [
    ['no command', [], /Name a command/],
    ['unknown command', ['featurs'], /Unknown command 'featurs'.*features/],
    ['missing --out', ['features', 'x.wav'], /Missing required argument: out/],
    ['bad preset', ['features', 'x.wav', '--out', 'x.npy', '--preset', 'mfcc'], /Invalid values:.*preset/],
    ['--out not .npy', ['features', 'x.wav', '--out', 'x.txt'], /--out must name a \.npy file/],
    ['unknown option', ['features', 'x.wav', '--out', 'x.npy', '--frobnicate'], /Unknown argument: frobnicate/],
    ['bad --dev-split', ['train', '--accent', 'scottish', '--dev-split', 'voices'], /Invalid values:.*dev-split/],
  ];
  for (const [what, args, pattern] of usage) {
    it(`usage error (${what}): exit 2, one line on stderr`, () => {
      const r = run(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    });
  }

  const runtime: [string, RegExp][] = [
    ['not-a-wav.wav', /not-a-wav\.wav: not a WAV file/],
    ['truncated-data.wav', /truncated WAV file/],
    ['adpcm.wav', /unsupported codec: IMA ADPCM/],
  ];
  for (const [name, pattern] of runtime) {
    it(`runtime error (${name}): exit 1, one line, no stack, nothing written`, () => {
      const out = path.join(dir, `${name}.npy`);
      const r = run('features', wavFixture(name), '--out', out, '--png', path.join(dir, `${name}.png`));
      assert.equal(r.code, 1);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!/\bat .*\.js:\d+/.test(r.stderr), 'stack trace printed');
      assert.ok(!fs.existsSync(out));
      assert.ok(!fs.readdirSync(dir).some((f) => f.startsWith(`.${name}`)), 'temporary file left');
    });
  }

  it('a missing output folder is a one-line runtime error and nothing is written', () => {
    const r = run('features', audioFixture('short-75ms-16k.wav'), '--out', path.join(dir, 'nope', 'x.npy'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /output folder does not exist/);
  });

  it('--verbose adds the stack trace to errors', () => {
    const r = run('features', wavFixture('adpcm.wav'), '--out', path.join(dir, 'v.npy'), '--verbose');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /InputError/);
  });

  it('--help describes every option of features in full sentences', () => {
    const r = run('features', '--help');
    assert.equal(r.code, 0);
    for (const opt of ['--preset', '--out', '--png', '--verbose']) assert.ok(r.stdout.includes(opt), opt);
    assert.match(r.stdout.replace(/\s+/g, ' '), /reproduce openai\/whisper log_mel_spectrogram/);
    const root = run('--help');
    assert.match(root.stdout, /features \[input\]/);
    assert.match(root.stdout, /info/);
  });

  it('info names the training backend it will use', () => {
    const r = run('info');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /training backend: (tensorflow|wasm|cpu)/);
  });
});

describe('cli: features batch mode', () => {
  it('writes one .npy per manifest entry, resumes, and refuses mixing batch and single-file options', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-batch-'));
    try {
      const manifest = path.join(dir, 'm.jsonl');
      const rel = (f: string): string => path.relative(dir, audioFixture(f));
      fs.writeFileSync(manifest, [
        JSON.stringify({ audio_filepath: rel('speech-en-us-16k.wav'), text: 'the quick brown fox', duration: 3.2 }),
        JSON.stringify({ audio_filepath: rel('chirp-noise-16k.wav'), text: 'x' }),
      ].join('\n') + '\n');
      const out = path.join(dir, 'feats');
      const r = run('features', '--manifest', manifest, '--out-dir', out, '--preset', 'kaldi-fbank-80');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /2 written .* 0 already there, 0 failed/);
      assert.deepEqual(readNpy(path.join(out, 'speech-en-us-16k.npy')).shape, [318, 80]);
      const again = run('features', '--manifest', manifest, '--out-dir', out);
      assert.match(again.stdout, /0 written .* 2 already there/);
      const mixed = run('features', 'x.wav', '--manifest', manifest, '--out-dir', out);
      assert.equal(mixed.code, 2);
      assert.match(mixed.stderr, /--manifest \(batch mode\) takes --out-dir/);
      fs.appendFileSync(manifest, JSON.stringify({ audio_filepath: 'missing.wav', text: 'y' }) + '\n');
      const partial = run('features', '--manifest', manifest, '--out-dir', out);
      assert.equal(partial.code, 1);
      assert.match(partial.stderr, /skipped .*missing\.wav: file not found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
