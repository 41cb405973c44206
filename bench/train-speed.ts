/**
 * bench/train-speed: adapter training speed against the framework a Python user would reach for.
 * The same adapter + head (method adapter, default hyper-parameters) on the same cached encoder
 * outputs (base-en on the bundled Scottish training split, the dev set held out as train does),
 * same batching: adapt-asr's TensorFlow.js trainer (its per-epoch gradient-step time, trainSec)
 * and PyTorch (bench/train_speed_torch.py, Debian python3-torch), 2 threads each where they can.
 * Usage: node dist/bench/train-speed.js [--quick]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset } from '../lib/data/manifest.js';
import { CtcHead } from '../lib/decode/ctc-head.js';
import { Encoder } from '../lib/encoder/encoder.js';
import { localFileEncoder } from '../lib/encoder/pool.js';
import { resolveModel } from '../lib/encoder/registry.js';
import { writeNpy } from '../lib/io/npy.js';
import { labeler, prepareExamples, splitDev } from '../lib/train/data.js';
import { initTraining } from '../lib/train/backend.js';
import { trainAdapter, type EpochReport } from '../lib/train/trainer.js';
import { machine, median, table } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** trainAdapter's defaults for method adapter (lib/train/trainer.ts). */
const CONFIG = { bottleneck: 64, context: 3, lr: 1e-3, headLr: 3e-4, weightDecay: 0.01, dropout: 0.1, timeMask: 0.1, featureMask: 0.1, batchFrames: 3000 };

export async function benchTrainSpeed(quick = false): Promise<string> {
  const epochs = quick ? 3 : 6;
  const data = path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'train');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-speed-'));
  try {
    // Ours: the real trainer, all epochs run (no early stop), gradient-step time per epoch.
    const reps: EpochReport[] = [];
    await trainAdapter({ accent: 'speed', data, out: path.join(tmp, 'adapter'), epochs, patience: 1000, threads: os.cpus().length, onEpoch: (e) => reps.push(e) });
    const backend = (await initTraining()).backend;
    const ours = median(reps.slice(1).map((e) => e.trainSec)); // the first epoch warms up kernels
    // The same training split, cached encoder outputs, for PyTorch.
    const md = resolveModel('base-en');
    const spec = md.manifest;
    const head = CtcHead.load(md.dir, spec.ctcHead!.weights!, spec.ctcHead!.bias!, spec.encoder.hiddenSize, spec.ctcHead!.vocab.length);
    const enc = await Encoder.create(md, { threads: os.cpus().length });
    const { examples } = await prepareExamples(readDataset(data).utterances, localFileEncoder(enc), labeler(spec.ctcHead!.vocab));
    await enc.release();
    const { train } = splitDev(examples, 1);
    const d = spec.encoder.hiddenSize, total = train.reduce((a, e) => a + e.T, 0);
    const frames = new Float32Array(total * d);
    let o = 0;
    for (const e of train) { frames.set(e.frames, o); o += e.frames.length; }
    writeNpy(path.join(tmp, 'frames.npy'), frames, [total, d]);
    writeNpy(path.join(tmp, 'head_w.npy'), head.weight, [d, head.vocabSize]);
    writeNpy(path.join(tmp, 'head_b.npy'), head.bias, [head.vocabSize]);
    fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify({ config: CONFIG, blank: spec.ctcHead!.blank, T: train.map((e) => e.T), labels: train.map((e) => [...e.labels]) }));
    const rows: string[][] = [[`adapt-asr (TensorFlow.js, ${backend} backend)`, backend === 'wasm' ? '1 (the wasm backend runs one thread in Node)' : 'default', (ours).toFixed(2), '1.00']];
    const sec = train.reduce((a, e) => a + e.seconds, 0);
    let note = '';
    for (const threads of [1, 2]) {
      const r = spawnSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'train_speed_torch.py'), tmp, String(threads), String(epochs)], { encoding: 'utf8' });
      if (r.status !== 0) { note = `PyTorch: skipped (${r.stderr.trim().split('\n').pop()})`; break; }
      const t = JSON.parse(r.stdout) as { epochSec: number[]; torch: string };
      const pt = median(t.epochSec.slice(1));
      rows.push([`PyTorch ${t.torch}`, String(threads), pt.toFixed(2), (ours / pt).toFixed(2)]);
    }
    const date = new Date().toISOString().slice(0, 10);
    return [
      '## Adapter training speed against PyTorch (`bench/train-speed`)', '',
      `Measured ${date} on ${machine()}. Command: \`npm run build && node dist/bench/train-speed.js\`. `
        + `Same model (residual bottleneck adapter d=${d} -> ${CONFIG.bottleneck}, context ${CONFIG.context}, plus the CTC head), same cached base-en encoder outputs of the Scottish training split (${train.length} utterances, ${(sec / 60).toFixed(1)} min), same batching (<= ${CONFIG.batchFrames} padded frames), masks, dropout, CTC loss, Adam and clipping. `
        + `Median seconds per epoch of gradient steps over epochs 2-${epochs} (the first warms up).`, '',
      table(['implementation', 'threads', 's per epoch', 'adapt-asr time / this'], rows), '',
      ...(note ? [note, ''] : []),
    ].join('\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write((await benchTrainSpeed(process.argv.includes('--quick'))) + '\n');
}
