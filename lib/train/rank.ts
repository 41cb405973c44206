/**
 * `adapt-asr rank`: which installed model suits the user's recordings? On a sample of the data
 * (default 5 minutes), for each model:
 *   - base WER and CER with the model's default decoding, speed (real-time factor) and size;
 *   - an adaptation probe: a quick adapter trained on two thirds of the sample (no speed perturbation,
 *     at most 12 epochs) and judged by the guard on the other third: the expected gain and whether
 *     the guard would accept it.
 * Models are ranked by the WER they are expected to reach (adapted if the guard accepts, else base),
 * then by speed. A model that cannot run on the data (no CTC head yet) is listed with the reason.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDataset, type Utterance } from '../data/manifest.js';
import { listModels, resolveModel, userModelsDir } from '../encoder/registry.js';
import { InputError, UsageError } from '../errors.js';
import { evaluate } from '../pipeline/evaluate.js';
import { loadRecognizer } from '../pipeline/recognizer.js';
import { rng, shuffled } from '../util/random.js';
import { subsetMinutes } from './data.js';
import { trainAdapter } from './trainer.js';

/** Options of rankModels. */
export interface RankOptions {
  /** A folder with transcripts.tsv or a .jsonl manifest. */
  data: string;
  /** Model names or folders (default: every installed model, bundled and the user's). */
  models?: string[];
  modelsDir?: string;
  /** Minutes of the data to sample (default 5): bounds the work. */
  minutes?: number;
  /** Train the adaptation probe (default true). */
  probe?: boolean;
  seed?: number;
  threads?: number;
  onLog?: (line: string) => void;
}

/** One model's row: usable or why not, its scores (WER, CER as fractions), speed, size, and the probe. */
export interface RankRow {
  model: string;
  kind?: string;
  usable: boolean;
  why?: string;
  wer?: number;
  cer?: number;
  /** Real-time factor: processing seconds per second of audio (encoder + decoding). */
  rtf?: number;
  sizeMB: number;
  probe?: { devBaseWer: number; devAdaptedWer: number; gain: number; accepted: boolean; verdict: string; seconds: number };
  /** The WER the model is expected to reach on this data: base, less the probe's gain when the guard accepts. */
  expectedWer?: number;
}

/** The ranked rows, the sample used, and the recommendation with its reason. */
export interface RankResult { rows: RankRow[]; sample: { utterances: number; minutes: number }; recommendation?: { model: string; reason: string } }

const folderMB = (dir: string): number => fs.readdirSync(dir).reduce((a, f) => a + (fs.statSync(path.join(dir, f)).isFile() ? fs.statSync(path.join(dir, f)).size : 0), 0) / 1e6;

/** Rank models on a sample of `data` (see the file comment). */
export async function rankModels(o: RankOptions): Promise<RankResult> {
  const log = o.onLog ?? (() => undefined);
  const minutes = o.minutes ?? 5;
  if (!(minutes > 0)) throw new UsageError(`--minutes must be a positive number, got ${minutes}`);
  const all = readDataset(o.data).utterances;
  if (all.length < 3) throw new InputError(`need at least 3 utterances to rank models, found ${all.length}`, o.data);
  const sample = subsetMinutes(all, minutes, o.seed ?? 1);
  const sampleMin = sample.reduce((a, u) => a + (u.duration ?? 0), 0) / 60;
  log(`sample: ${sample.length} utterances, ${sampleMin.toFixed(1)} min of ${o.data}`);
  const modelsDir = o.modelsDir ?? userModelsDir();
  const names = o.models ?? listModels(modelsDir).map((m) => m.dir);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-rank-'));
  const rows: RankRow[] = [];
  try {
    const { train, dev } = probeSplit(sample, o.seed ?? 1);
    const trainFile = writeManifest(path.join(tmp, 'train.jsonl'), train), devFile = writeManifest(path.join(tmp, 'dev.jsonl'), dev);
    for (const [i, spec] of names.entries()) {
      let md;
      try {
        md = resolveModel(spec, modelsDir);
      } catch (err) {
        rows.push({ model: spec, usable: false, why: (err as Error).message, sizeMB: 0 });
        continue;
      }
      const m = md.manifest;
      const row: RankRow = { model: m.name, kind: m.encoder.kind, usable: !!m.ctcHead, sizeMB: folderMB(md.dir) };
      rows.push(row);
      if (!m.ctcHead) {
        row.why = `no CTC head yet: adapt-asr train --accent en --model ${m.name} --method head --as-base --data <general data>`;
        continue;
      }
      log(`[${i + 1}/${names.length}] ${m.name}: scoring the sample`);
      const rec = await loadRecognizer({ model: md.dir, threads: o.threads });
      try {
        const r = await evaluate(rec, sample);
        Object.assign(row, { wer: r.wer, cer: r.cer, rtf: r.seconds / Math.max(1e-9, r.audioSeconds), expectedWer: r.wer });
      } finally {
        await rec.release();
      }
      if (o.probe === false) continue;
      log(`[${i + 1}/${names.length}] ${m.name}: adaptation probe on ${train.length} utterances, judged on ${dev.length}`);
      const t0 = performance.now();
      try {
        const t = await trainAdapter({ accent: 'rank-probe', model: md.dir, data: trainFile, devData: devFile, out: path.join(tmp, `probe-${i}`), speeds: [1], epochs: 12, patience: 4, seed: o.seed ?? 1, threads: o.threads, minDevWords: 50 });
        const d = t.meta.dev;
        const gain = d.baseWer > 0 ? (d.baseWer - d.adaptedWer) / d.baseWer : 0;
        row.probe = { devBaseWer: d.baseWer, devAdaptedWer: d.adaptedWer, gain, accepted: d.accepted, verdict: d.verdict, seconds: (performance.now() - t0) / 1000 };
        if (d.accepted) row.expectedWer = row.wer! * (1 - gain);
      } catch (err) {
        row.probe = undefined;
        row.why = `adaptation probe failed: ${(err as Error).message}`;
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  rows.sort((a, b) => (a.usable === b.usable ? (a.expectedWer ?? 2) - (b.expectedWer ?? 2) || (a.rtf ?? 9) - (b.rtf ?? 9) : a.usable ? -1 : 1));
  const best = rows.find((r) => r.usable && r.expectedWer !== undefined);
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const runnerUp = rows.find((r) => r !== best && r.usable && r.expectedWer !== undefined);
  const recommendation = best ? {
    model: best.model,
    reason: `lowest expected WER on your sample: ${pct(best.expectedWer!)}${best.probe?.accepted ? ` (base ${pct(best.wer!)}, and a quick adapter gained ${pct(best.probe.gain)} relative, accepted by the guard: adapt it with adapt-asr train --model ${best.model})` : best.probe ? ` (a quick adapter was not accepted by the guard: ${pct(best.probe.gain)} relative on the probe's dev third)` : ''}${runnerUp ? `; next: ${runnerUp.model} at ${pct(runnerUp.expectedWer!)}` : ''}`,
  } : undefined;
  return { rows, sample: { utterances: sample.length, minutes: sampleMin }, recommendation };
}

/** Two thirds to train the probe, one third to judge it: by speaker when there are 3 or more, else by utterance. */
function probeSplit(sample: Utterance[], seed: number): { train: Utterance[]; dev: Utterance[] } {
  const speakers = [...new Set(sample.map((u) => u.speaker).filter((s): s is string => !!s))];
  if (speakers.length >= 3 && sample.every((u) => u.speaker)) {
    const devSpk = new Set(shuffled(speakers, rng(seed)).slice(0, Math.max(1, Math.round(speakers.length / 3))));
    return { train: sample.filter((u) => !devSpk.has(u.speaker!)), dev: sample.filter((u) => devSpk.has(u.speaker!)) };
  }
  const order = shuffled(sample, rng(seed));
  const k = Math.max(1, Math.round(order.length / 3));
  return { train: order.slice(k), dev: order.slice(0, k) };
}

function writeManifest(file: string, utts: Utterance[]): string {
  fs.writeFileSync(file, utts.map((u) => JSON.stringify({ audio_filepath: path.resolve(u.audio), text: u.text, ...(u.speaker ? { speaker: u.speaker } : {}), ...(u.duration ? { duration: u.duration } : {}) })).join('\n') + '\n');
  return file;
}
