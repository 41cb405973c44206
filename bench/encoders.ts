/**
 * bench/encoders: real-time factor (encode time / audio time) of each encoder kind with 1 thread
 * and with all cores, on 60 s of audio, including feature extraction, windowing and stitching.
 * Encoders: the tiny test encoders (runtime overhead) and random-weight encoders with the sizes
 * of Whisper tiny and wav2vec2 base (made by bench/make-sized-encoders.py; speed proxies only).
 * Usage: node dist/bench/encoders.js [--quick]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Encoder, importModel, onnxRuntimeVersion, type ModelDir } from '../lib/encoder/index.js';
import { machine, median, table } from './common.js';
import { speechMinute } from './features.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = (f: string): string => path.join(ROOT, 'test', 'fixtures', 'encoders', f);

async function rtf(model: ModelDir, threads: number, samples: Float32Array, repeats: number): Promise<number> {
  const enc = await Encoder.create(model, { threads });
  try {
    const audio = { samples, sampleRate: 16000 };
    await enc.encode(audio); // warm-up
    const ts: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await enc.encode(audio);
      ts.push((performance.now() - t0) / 1000);
    }
    return median(ts) / (samples.length / 16000);
  } finally {
    await enc.release();
  }
}

export async function benchEncoders(quick = false): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-enc-'));
  try {
    const models: [string, string, ModelDir][] = [
      ['whisper (tiny test encoder, 2.3k params)', 'whisper', await importModel(fixture('whisper/encoder_model.onnx'), { kind: 'whisper', name: 'w', modelsDir: tmp })],
      ['waveform (tiny test wav2vec2, 1.1k params)', 'waveform', await importModel(fixture('wav2vec2/model.onnx'), { kind: 'waveform', name: 'v', modelsDir: tmp })],
      ['features (tiny test encoder, 2k params)', 'features', await importModel(fixture('ours/encoder.onnx'), { kind: 'features', name: 'o', preset: 'kaldi-fbank-80', modelsDir: tmp })],
    ];
    const made = spawnSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'make-sized-encoders.py'), tmp, 'whisper-tiny', ...(quick ? [] : ['wav2vec2-base'])], { encoding: 'utf8' });
    if (made.status === 0) {
      models.push(['whisper (Whisper-tiny-sized, 7.6M params)', 'whisper', await importModel(path.join(tmp, 'whisper-tiny-sized.onnx'), { kind: 'whisper', name: 'wt', modelsDir: tmp })]);
      if (!quick) models.push(['waveform (wav2vec2-base-sized, 89.6M params)', 'waveform', await importModel(path.join(tmp, 'wav2vec2-base-sized.onnx'), { kind: 'waveform', name: 'wb', modelsDir: tmp })]);
    }
    const baseEn = path.join(ROOT, 'models', 'base-en');
    if (fs.existsSync(path.join(baseEn, 'model.json'))) {
      const { loadManifest } = await import('../lib/encoder/index.js');
      models.unshift(['base-en (bundled, conv 12 x 256)', 'features', loadManifest(baseEn)]);
    }
    const { samples, source } = speechMinute();
    const cores = os.cpus().length;
    const rows: string[][] = [];
    for (const [label, kind, m] of models) {
      const repeats = quick ? 1 : 3;
      const one = await rtf(m, 1, samples, repeats);
      const all = await rtf(m, cores, samples, repeats);
      rows.push([label, kind, one.toFixed(4), all.toFixed(4)]);
    }
    const date = new Date().toISOString().slice(0, 10);
    return [
      '## Encoders (`bench/encoders`)', '',
      `Measured ${date} on ${machine()}, onnxruntime-node ${onnxRuntimeVersion()}. Command: \`npm run build && node dist/bench/encoders.js\`.`, '',
      `Real-time factor = encode time / audio time (lower is faster) for 60 s of audio (${source}), including feature extraction, `
        + `windowing (Whisper: 30 s windows with 2 s of context, so 60 s takes 3 windows) and stitching; median of ${quick ? 1 : 3} runs after a warm-up. `
        + 'The tiny test encoders measure the runtime\'s own overhead; the sized ones have random weights and the layer sizes of the real models, '
        + 'so they measure speed only. Target for the bundled base-en: RTF <= 0.02 on one thread.', '',
      table(['encoder', 'kind', 'RTF, 1 thread', `RTF, ${cores} threads`], rows),
      (made.status === 0 ? '' : `\nSized encoders skipped: bench/make-sized-encoders.py needs Debian python3-onnx (${made.stderr.trim().split('\n').pop()}).`), '',
    ].join('\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write((await benchEncoders(process.argv.includes('--quick'))) + '\n');
}
