/** Model directories for tests, built from the committed tiny ONNX encoders. */
import fs from 'node:fs';
import path from 'node:path';
import { importModel, type ModelDir } from '../../lib/encoder/index.js';
import { sha256File } from '../../lib/io/sha256.js';
import { ROOT } from './fixtures.js';

export const encoderFixture = (name: string): string => path.join(ROOT, 'test', 'fixtures', 'encoders', name);

/** Import the three test encoders into `dir` (whisper-test, wav2vec2-test, ours-test). */
export async function importTestModels(dir: string): Promise<Record<'whisper' | 'waveform' | 'features', ModelDir>> {
  return {
    whisper: await importModel(encoderFixture('whisper/encoder_model.onnx'), { kind: 'whisper', name: 'whisper-test', modelsDir: dir }),
    waveform: await importModel(encoderFixture('wav2vec2/model.onnx'), { kind: 'waveform', name: 'wav2vec2-test', modelsDir: dir }),
    features: await importModel(encoderFixture('ours/encoder.onnx'), { kind: 'features', name: 'ours-test', preset: 'kaldi-fbank-80', normalize: 'utterance', modelsDir: dir }),
  };
}

/** A copy of a model directory with model.json edited by `edit` and the encoder file replaced by `onnx`. */
export function variantModel(base: ModelDir, dir: string, name: string, edit: (m: Record<string, any>) => void, onnx?: string): string {
  const target = path.join(dir, name);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  const m = JSON.parse(JSON.stringify(base.manifest)) as Record<string, any>;
  m.name = name;
  const src = onnx ?? path.join(base.dir, base.manifest.encoder.file);
  fs.copyFileSync(src, path.join(target, 'encoder.onnx'));
  m.encoder.sha256 = sha256File(path.join(target, 'encoder.onnx'));
  edit(m);
  fs.writeFileSync(path.join(target, 'model.json'), JSON.stringify(m, null, 2));
  return target;
}

/**
 * A model with a CTC head for pipeline tests: the tiny `features` test encoder plus a head whose
 * weights are seeded random numbers (its transcripts are nonsense, but deterministic). With
 * `phones`, a phone model: the head is over those symbols and words are spelled through `dictionary`
 * (and guessed by the letter-to-phone rules `g2p`, when given).
 */
export async function importTestModelWithHead(dir: string, name = 'tiny-ctc', phones?: { symbols: string[]; dictionary: string; g2p?: string }): Promise<ModelDir> {
  const { encodeNpy } = await import('../../lib/io/npy.js');
  const { CHAR_VOCAB } = await import('../../lib/text/normalize.js');
  const { loadManifest } = await import('../../lib/encoder/index.js');
  const md = await importModel(encoderFixture('ours/encoder.onnx'), { kind: 'features', name, preset: 'kaldi-fbank-80', normalize: 'utterance', modelsDir: dir, force: true });
  const vocab = phones?.symbols ?? CHAR_VOCAB;
  const V = vocab.length, D = md.manifest.encoder.hiddenSize;
  let seed = 12345;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff - 0.5; };
  const w = Float32Array.from({ length: D * V }, () => 3 * rnd());
  const b = Float32Array.from({ length: V }, (_, v) => (v === 0 ? 1 : 0));
  fs.writeFileSync(path.join(md.dir, 'head.weight.npy'), Buffer.concat(encodeNpy(w, [D, V])));
  fs.writeFileSync(path.join(md.dir, 'head.bias.npy'), Buffer.concat(encodeNpy(b, [V])));
  const m = JSON.parse(fs.readFileSync(path.join(md.dir, 'model.json'), 'utf8'));
  m.ctcHead = { weights: 'head.weight.npy', bias: 'head.bias.npy', vocab, blank: 0 };
  if (phones) {
    fs.writeFileSync(path.join(md.dir, 'pronunciations.txt'), phones.dictionary);
    m.ctcHead.pronunciations = 'pronunciations.txt';
    if (phones.g2p) {
      fs.writeFileSync(path.join(md.dir, 'g2p.txt'), phones.g2p);
      m.ctcHead.g2p = 'g2p.txt';
    }
  }
  fs.writeFileSync(path.join(md.dir, 'model.json'), JSON.stringify(m, null, 2));
  return loadManifest(md.dir);
}

/** A folder with the first `n` utterances of the bundled Scottish training data (4+ speakers). */
export function smallScottishData(dir: string, n: number, { from = 0, name = 'data' } = {}): string {
  const data = path.join(dir, name);
  fs.mkdirSync(data, { recursive: true });
  const src = path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'train');
  const lines = fs.readFileSync(path.join(src, 'transcripts.tsv'), 'utf8').trim().split('\n').slice(from, from + n);
  for (const l of lines) fs.copyFileSync(path.join(src, l.split('\t')[0]), path.join(data, l.split('\t')[0]));
  fs.writeFileSync(path.join(data, 'transcripts.tsv'), lines.join('\n') + '\n');
  return data;
}
