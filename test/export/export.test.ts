import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAudio } from '../../lib/audio/index.js';
import { createSession } from '../../lib/encoder/session.js';
import { loadManifest } from '../../lib/encoder/manifest.js';
import { exportModel } from '../../lib/export/export.js';
import { checkExport } from '../../lib/export/verify.js';
import { getExtractor } from '../../lib/features/index.js';
import { normalizeUtterance } from '../../lib/features/normalize.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { trainAdapter } from '../../lib/train/trainer.js';
import { randomAdapter } from '../helpers/adapters.js';
import { maxAbsDiff } from '../helpers/assert-close.js';
import { audioFixture, ROOT } from '../helpers/fixtures.js';
import { encoderFixture, smallScottishData } from '../helpers/models.js';

const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');
const BASE_EN = path.join(ROOT, 'models', 'base-en');
const BASE_EN_REAL = path.join(ROOT, 'models', 'base-en-real');
const run = (cwd: string, ...args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

/** The export against its source on a recording: largest |log-prob difference| and both texts. */
async function compare(source: { model?: string; adapter?: string }, exportDir: string, wav: string): Promise<{ diff: number; texts: [string, string] }> {
  const c = await checkExport(exportDir, loadAudio(wav), source);
  assert.ok(c.frames > 0);
  return { diff: c.maxAbsDiff, texts: [c.pipelineText, c.exportText] };
}

describe('export: one ONNX graph from features to log-probabilities', function () {
  this.timeout(300000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-export-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('base-en with an ensemble of 2 adapters: ONNX Runtime on model.onnx gives the pipeline\'s log-probabilities; the folder holds every file export.json names', async () => {
    const adapter = path.join(dir, 'ens');
    randomAdapter(BASE_EN, adapter, { members: 2, words: { zyxwords: 'Z IH K S W ER D Z' } });
    const out = path.join(dir, 'e-ens');
    const info = exportModel({ adapter, out });
    assert.equal(info.adapter?.members, 2);
    for (const f of [info.graph.file, info.tokens, info.lm!, info.lexicon!.pronunciations, info.lexicon!.g2p!, info.lexicon!.addedWords!, 'model.json']) assert.ok(fs.existsSync(path.join(out, f)), f);
    const tokens = fs.readFileSync(path.join(out, 'tokens.txt'), 'utf8').trim().split('\n');
    assert.equal(tokens.length, info.vocabulary.length);
    assert.equal(tokens[0], '<blank> 0');
    assert.equal(tokens[1], '<space> 1');
    assert.deepEqual(info.decoding, loadManifest(BASE_EN).manifest.decoding);
    // The graph alone, fed the features export.json describes (the preset, then per-utterance normalisation).
    const audio = loadAudio(audioFixture('speech-en-gb-f3-16k.wav'));
    const f = getExtractor(info.frontEnd.type === 'features' ? info.frontEnd.preset : 'kaldi-fbank-80').compute(audio);
    normalizeUtterance(f.data, f.numFrames, f.dim);
    const s = await createSession(path.join(out, 'model.onnx'), { threads: 1 });
    try {
      assert.deepEqual(s.outputs.map((o) => o.name), ['log_probs']);
      const r = await s.run(info.graph.input.name, f.data, [1, f.numFrames, f.dim], 'log_probs');
      const rec = await loadRecognizer({ adapter, threads: 1 });
      try {
        const want = await rec.logProbs(audio);
        assert.deepEqual(r.dims, [1, want.T, want.V]);
        const diff = maxAbsDiff(r.data, want.logp);
        assert.ok(diff <= 1e-4, `max |graph - pipeline| = ${diff}`);
        // Rows are distributions.
        let sum = 0;
        for (let v = 0; v < want.V; v++) sum += Math.exp(r.data[v]);
        assert.ok(Math.abs(sum - 1) < 1e-4, `row sums to ${sum}`);
      } finally {
        await rec.release();
      }
    } finally {
      await s.release();
    }
  });

  it('transcribe --model <export> gives the same text as the model with its adapter, and the adapter\'s words are known', async () => {
    const adapter = path.join(dir, 'ens');
    const out = path.join(dir, 'e-ens');
    for (const wav of ['speech-en-us-16k.wav', 'speech-en-gb-f3-16k.wav']) {
      const a = run(dir, 'transcribe', audioFixture(wav), '--adapter', adapter, '--format', 'json', '--threads', '1');
      const b = run(dir, 'transcribe', audioFixture(wav), '--model', out, '--format', 'json', '--threads', '1');
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const ja = JSON.parse(a.stdout), jb = JSON.parse(b.stdout);
      assert.ok(ja.text.length > 0);
      assert.equal(jb.text, ja.text, wav);
      assert.deepEqual(jb.words.map((w: { start: number }) => w.start), ja.words.map((w: { start: number }) => w.start));
    }
    const rec = await loadRecognizer({ model: out, threads: 1 });
    try {
      assert.ok(rec.pronunciations!.has('zyxwords'), 'added word');
    } finally {
      await rec.release();
    }
  });

  it('base-en-real (opset 17: LayerNormalization) with one adapter, and the base model alone', async () => {
    const adapter = path.join(dir, 'real');
    randomAdapter(BASE_EN_REAL, adapter);
    exportModel({ adapter, out: path.join(dir, 'e-real') });
    const c = await compare({ adapter }, path.join(dir, 'e-real'), audioFixture('speech-en-us-16k.wav'));
    assert.ok(c.diff <= 1e-4, `adapter: ${c.diff}`);
    assert.equal(c.texts[1], c.texts[0]);
    const info = exportModel({ model: 'base-en-real', out: path.join(dir, 'e-base') });
    assert.equal(info.adapter, null);
    const b = await compare({ model: 'base-en-real' }, path.join(dir, 'e-base'), audioFixture('speech-en-gb-f3-16k.wav'));
    assert.ok(b.diff <= 1e-4, `base: ${b.diff}`);
    assert.equal(b.texts[1], b.texts[0]);
  });

  it('a trained top-block adapter (method top) exports too', async () => {
    const data = smallScottishData(dir, 8);
    const adapter = path.join(dir, 'top');
    await trainAdapter({ accent: 'scots', data, model: encoderFixture('ours-top'), out: adapter, method: 'top', epochs: 2, threads: 1, cache: false });
    randomAdapter(encoderFixture('ours-top'), path.join(dir, 'top-random'), { method: 'top' });
    for (const a of [adapter, path.join(dir, 'top-random')]) {
      const out = `${a}-export`;
      exportModel({ adapter: a, model: encoderFixture('ours-top'), out });
      const c = await compare({ model: encoderFixture('ours-top'), adapter: a }, out, audioFixture('speech-en-us-16k.wav'));
      assert.ok(c.diff <= 1e-4, `${a}: ${c.diff}`);
    }
  });

  it('the command checks its export; wrong inputs get one line and the right exit code; nothing is half-written', () => {
    const ok = run(dir, 'export', '--adapter', path.join(dir, 'ens'), '--out', path.join(dir, 'cli'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /max \|log-prob difference\| [0-9.e-]+ over \d+ frames \(limit 0\.0001\), same text: yes/);
    // An earlier export is replaced; another folder is not.
    assert.equal(run(dir, 'export', '--adapter', path.join(dir, 'ens'), '--out', path.join(dir, 'cli'), '--no-check').code, 0);
    const other = run(dir, 'export', '--adapter', path.join(dir, 'ens'), '--out', path.join(dir, 'ens'));
    assert.equal(other.code, 2);
    assert.match(other.stderr, /^adapt-asr: --out .*ens is a folder that holds other files; name a new folder\n$/);
    const wrong = run(dir, 'export', '--adapter', path.join(dir, 'ens'), '--model', 'base-en-real', '--out', path.join(dir, 'x'));
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /adapter was trained for base model 'base-en'/);
    const noAccent = run(dir, 'export', '--accent', 'nowhere', '--out', path.join(dir, 'x'));
    assert.equal(noAccent.code, 2);
    assert.match(noAccent.stderr, /no adapter for accent 'nowhere'/);
    const again = run(dir, 'export', '--model', path.join(dir, 'cli'), '--out', path.join(dir, 'x'));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is already an export/);
    assert.ok(!fs.existsSync(path.join(dir, 'x')));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('exporting')), [], 'no temporary folders left');
  });

  it('an export cannot be adapted, and takes no adapter', async () => {
    await assert.rejects(trainAdapter({ accent: 'x', data: smallScottishData(dir, 4, { name: 'd2' }), model: path.join(dir, 'e-ens'), out: path.join(dir, 'no'), epochs: 1, cache: false }), /is an export .* cannot be adapted/);
    await assert.rejects(loadRecognizer({ model: path.join(dir, 'e-ens'), adapter: path.join(dir, 'ens') }), /adapter was trained for base model|is an export/);
  });
});
