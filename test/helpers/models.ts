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
