/**
 * Phase 5 of training: write the adapter folder atomically (adapter.json, weights.bin, a JSON report
 * and a plot of loss and dev WER per epoch), and, for --as-base, the trained head into the model.
 */
import fs from 'node:fs';
import path from 'node:path';
import { saveAdapter, type AdapterMeta } from '../adapter/io.js';
import type { AdapterWeights } from '../adapter/math.js';
import { encodeNpy } from '../io/npy.js';
import { writeFileAtomic } from '../io/atomic.js';
import { panelsPlot } from '../io/plot-png.js';
import { toolkitVersion } from '../version.js';
import type { Baseline, Judgement } from './guard.js';
import type { EpochReport, Resolved } from './options.js';
import type { Prepared } from './prepare.js';
import type { Trained } from './epochs.js';
import type { PhaseTimes } from './phases.js';

/** Phase 5: save the adapter (and, for --as-base, the model's new head); returns what adapter.json says. */
export function writeAdapter(cfg: Resolved, out: string, run: Prepared, bl: Baseline, trained: Trained, j: Judgement, decoding: AdapterMeta['decoding'], backend: string, log: (line: string) => void, phases?: PhaseTimes): AdapterMeta {
  const { spec, md, examples, skipped, guessed } = run;
  const { members, state } = trained;
  const K = members.length;
  if (cfg.asBase) {
    writeBaseHead(md.dir, members[0], run.vocab.symbols);
    log(`stored the trained head as the base CTC head of ${md.dir}`);
  }
  return saveAdapter(out, {
    format: 'adapt-asr-adapter', accent: cfg.accent, method: cfg.method,
    base: { name: spec.name, modelVersion: spec.modelVersion, encoderSha256: spec.encoder.sha256 },
    hyperParameters: { bottleneck: cfg.bottleneck, context: cfg.context, lr: cfg.lr, headLr: cfg.headLr, weightDecay: cfg.weightDecay, dropout: cfg.dropout, timeMask: cfg.timeMask, featureMask: cfg.featureMask, batchFrames: cfg.batchFrames, epochs: cfg.epochs, patience: cfg.patience, seed: cfg.seed, acceptMargin: cfg.acceptMargin, acceptP: cfg.acceptP, ...(cfg.kld ? { kld: cfg.kld } : {}), speeds: cfg.speeds.join(','), ...(cfg.minutes ? { minutes: cfg.minutes } : {}), ...(K > 1 ? { ensemble: K } : {}) },
    data: { minutes: Math.round(run.minutes * 100) / 100, utterances: examples.length, speakers: new Set(examples.map((e) => e.speaker ?? '')).size, devUtterances: run.nDev, devSplit: run.devSplit, devSpeakers: run.devSpeakers, skipped: skipped.reduce((a, s) => a + s.files.length, 0), source: path.resolve(cfg.data), ...(cfg.devData ? { devSource: path.resolve(cfg.devData) } : {}) },
    dev: { baseWer: bl.base.wer, adaptedWer: j.after.wer, baseCer: bl.base.cer, adaptedCer: j.after.cer, words: j.after.words, pValue: j.pValue, accepted: j.accepted, verdict: j.verdict, decoding: bl.decoder.name },
    training: { epochs: state.done[0].epochs, bestEpoch: state.done[0].bestEpoch, seconds: Math.round(state.elapsedSec * 10) / 10, backend, ...(j.memberRecords ? { members: j.memberRecords } : {}) },
    ...(decoding ? { decoding } : {}),
    ...(guessed.size ? { words: Object.fromEntries([...guessed].map(([w, p]) => [w, p.join(' ')])) } : {}),
    toolkitVersion: toolkitVersion(), date: new Date().toISOString(),
  }, members, cfg.force || cfg.resume, {
    'report.json': Buffer.from(JSON.stringify({ history: state.history, baseDev: bl.baseProxy.map((b) => ({ wer: b.wer, loss: b.loss, decoding: bl.proxy.name })), skipped, ...(phases ? { phases } : {}) }, null, 2) + '\n'),
    'report.png': reportPlot(cfg.accent, state.history, bl.base.wer, K),
  });
}

/** Save a trained head into a model folder as its base CTC head (files first, model.json last, atomically). */
function writeBaseHead(dir: string, w: AdapterWeights, vocab: readonly string[]): void {
  const write = (name: string, data: Uint8Array | Uint8Array[]): void => writeFileAtomic(path.join(dir, name), data);
  write('head.weight.npy', encodeNpy(w.headW, [w.dim, w.vocabSize]));
  write('head.bias.npy', encodeNpy(w.headB, [w.vocabSize]));
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  m.ctcHead = { weights: 'head.weight.npy', bias: 'head.bias.npy', vocab: [...vocab], blank: 0 };
  write('model.json', Buffer.from(JSON.stringify(m, null, 2) + '\n'));
}

/** Loss and dev WER per epoch, two panels; an ensemble's members each their own lines. */
function reportPlot(accent: string, history: EpochReport[], baseWer: number, K: number): Buffer {
  const palette: [number, number, number][] = [[220, 80, 30], [30, 100, 200], [40, 160, 60], [150, 60, 180], [200, 160, 20], [20, 170, 170], [200, 60, 140], [100, 100, 40]];
  const runs = Array.from({ length: K }, (_, k) => history.filter((h) => (h.member ?? 0) === k));
  const name = (what: string, k: number): string => (K > 1 ? `${what}, member ${k + 1}` : what);
  const x = history.map((h) => h.epoch);
  const loss = K > 1
    ? runs.map((hs, k) => ({ name: name('dev loss', k), x: hs.map((h) => h.epoch), y: hs.map((h) => h.devLoss), color: palette[k % palette.length] }))
    : [{ name: 'train loss', x, y: history.map((h) => h.trainLoss), color: [30, 100, 200] as [number, number, number] }, { name: 'dev loss', x, y: history.map((h) => h.devLoss), color: palette[0] }];
  const wer = runs.map((hs, k) => ({ name: name('dev WER %', k), x: hs.map((h) => h.epoch), y: hs.map((h) => 100 * h.devWer), color: palette[k % palette.length] }));
  const maxEpoch = Math.max(1, ...x);
  return panelsPlot([
    { series: loss, options: { title: `${accent} adapter: CTC loss per label`, xLabel: 'epoch', yLabel: 'loss' } },
    { series: [...wer, { name: 'base model', x: [1, maxEpoch], y: [100 * baseWer, 100 * baseWer], color: [120, 120, 120] }],
      options: { title: K > 1 ? 'dev WER (each member on its own fold)' : 'dev WER (held-out dev set)', xLabel: 'epoch', yLabel: 'WER %' } },
  ]);
}
