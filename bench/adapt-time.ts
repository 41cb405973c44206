/**
 * bench/adapt-time: how long `adapt-asr train` takes with its default settings, phase by phase, and
 * what it gives. Each run is one `adapt-asr train` process, nothing else running: wall time and peak
 * RSS of the process (/usr/bin/time), seconds per phase from the adapter's report.json, the guard's
 * verdict, and test WER with the default decoding (scored after the timed process).
 *   scottish main: `adapt-asr train --accent scottish --seed N` (bundled data; base-en; the command
 *                  scores the bundled test set itself, which is in its time), seeds 1-4;
 *   zh-L1 10 min:  `adapt-asr train --data zh-train.jsonl --minutes 10 --seed N` (base-en-real, the
 *                  default for your own recordings), seeds 1-4; test: the 16 test speakers;
 *   second run:    seed 1 of each again, the encoding cache (if any) warm;
 *   ensemble 4:    `adapt-asr train --accent scottish --ensemble 4`, seed 1.
 * Results go to docs/adapt-time-<label>.json; the BENCHMARKS.md section shows every label found.
 * Usage: node dist/bench/adapt-time.js [--label after] [--quick] [--first-runs] [--no-write] [--train-args "--patience 8"]
 * (--first-runs: the seeds' first runs only, without the second runs and the ensemble.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate } from '../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../lib/pipeline/recognizer.js';
import { zhManifests } from './adaptation.js';
import { machine, table } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');
const SCOTTISH_TEST = path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test');

export interface TimeRow {
  run: string; seed: number; wallSec: number; peakMB: number; accepted: boolean; testWer: number; baseTestWer: number;
  epochs: number; bestEpoch: number; phases: Record<string, number>;
  /** Dev WER and loss per epoch (member, epoch), from report.json. */
  history: { member?: number; epoch: number; devWer: number; devLoss: number }[];
  /** The run's patience (early stopping). */
  patience?: number;
  /** The base model's scores in the per-epoch dev pass, per member. */
  baseDev?: { wer: number; loss: number }[];
}
export interface TimeResults { label: string; date: string; machine: string; commit: string; rows: TimeRow[]; /** What to know about the run (written by hand into the JSON). */ note?: string }

function commit(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

async function testWer(adapter: string | undefined, model: string | undefined, test: Parameters<typeof evaluate>[1]): Promise<number> {
  const rec = await loadRecognizer({ adapter, model, threads: os.cpus().length });
  try {
    return (await evaluate(rec, test)).wer;
  } finally {
    await rec.release();
  }
}

export async function benchAdaptTime(quick = false, label = 'after', extraArgs: string[] = []): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-time-'));
  const seeds = quick ? [1] : [1, 2, 3, 4];
  const zh = zhManifests(tmp);
  const rows: TimeRow[] = [];
  const baseWer = new Map<string, number>();
  // Each first run gets an empty encoding cache of its own; a second run reuses its first run's.
  const one = async (run: string, args: string[], seed: number, test: Parameters<typeof evaluate>[1], tag: string, cacheOf = tag): Promise<void> => {
    const out = path.join(tmp, tag);
    const env = { ...process.env, ADAPT_ASR_CACHE: path.join(tmp, `cache-${cacheOf}`) };
    const timed = fs.existsSync('/usr/bin/time');
    const full = [BIN, 'train', ...args, ...extraArgs, '--seed', String(seed), '--out', out, '--force'];
    const t0 = performance.now();
    const r = timed ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...full], { encoding: 'utf8', cwd: tmp, env }) : spawnSync(process.execPath, full, { encoding: 'utf8', cwd: tmp, env });
    const wallSec = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`train failed (${run}, seed ${seed}): ${r.stderr.slice(-800)}`);
    const peakMB = timed ? Number(r.stderr.trim().split('\n').pop()) / 1024 : NaN;
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'adapter.json'), 'utf8'));
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    const phases: Record<string, number> = { ...(report.phases ?? {}) };
    const testLine = /time: test scoring ([\d.]+) s/.exec(r.stderr);
    if (testLine) phases['test scoring'] = Number(testLine[1]);
    const key = `${meta.base.name}\t${run.split(' ')[0]}`;
    if (!baseWer.has(key)) baseWer.set(key, await testWer(undefined, meta.base.name, test));
    const wer = await testWer(out, undefined, test);
    const members = meta.training.members as { bestEpoch: number; epochs: number }[] | undefined;
    rows.push({ run, seed, wallSec, peakMB, accepted: meta.dev.accepted, testWer: wer, baseTestWer: baseWer.get(key)!, epochs: members ? members.reduce((a, m) => a + m.epochs, 0) : meta.training.epochs, bestEpoch: meta.training.bestEpoch, phases,
      history: (report.history as { member?: number; epoch: number; devWer: number; devLoss: number }[]).map((h) => ({ member: h.member, epoch: h.epoch, devWer: h.devWer, devLoss: h.devLoss })),
      baseDev: report.baseDev, patience: meta.hyperParameters.patience });
    process.stderr.write(`${run} seed ${seed}: ${wallSec.toFixed(1)} s, ${peakMB.toFixed(0)} MB, test WER ${(100 * wer).toFixed(1)}%, ${meta.dev.accepted ? 'accepted' : 'rejected'}\n`);
  };
  try {
    for (const seed of seeds) await one('scottish main', ['--accent', 'scottish'], seed, SCOTTISH_TEST, `sc-${seed}`);
    if (zh) for (const seed of seeds) await one('zh-L1 10 min', ['--accent', 'zh', '--data', zh.train, '--minutes', '10'], seed, zh.test, `zh-${seed}`);
    const firstOnly = process.argv.includes('--first-runs'); // (a probe of settings: quality and first-run time only)
    if (!firstOnly) await one('scottish main, second run', ['--accent', 'scottish'], 1, SCOTTISH_TEST, 'sc-1-again', 'sc-1');
    if (zh && !firstOnly) await one('zh-L1 10 min, second run', ['--accent', 'zh', '--data', zh.train, '--minutes', '10'], 1, zh.test, 'zh-1-again', 'zh-1');
    if (!quick && !firstOnly) await one('scottish --ensemble 4', ['--accent', 'scottish', '--ensemble', '4'], 1, SCOTTISH_TEST, 'sc-ens4');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const results: TimeResults = { label, date: new Date().toISOString().slice(0, 10), machine: machine(), commit: commit(), rows };
  if (!process.argv.includes('--no-write')) fs.writeFileSync(path.join(ROOT, 'docs', `adapt-time-${label}.json`), JSON.stringify(results, null, 2) + '\n');
  return adaptTimeSection();
}

/** The labels in the order the section shows them (the rounds of work in time order); any other label comes last. */
const ORDER = ['before', 'patience-8', 'after', 'patience-4', 'round-2', 'round-3'];

/** The BENCHMARKS.md section from every docs/adapt-time-*.json, in ORDER. */
export function adaptTimeSection(): string {
  const rank = (f: string): number => { const i = ORDER.indexOf(f.replace(/^adapt-time-|\.json$/g, '')); return i < 0 ? ORDER.length : i; };
  const files = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => /^adapt-time-.+\.json$/.test(f)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const all = files.map((f) => JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', f), 'utf8')) as TimeResults);
  const p = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const s = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const out: string[] = ['## Adaptation time (`bench/adapt-time`)', ''];
  out.push('Each run is one `adapt-asr train` process with default settings and nothing else running: wall time and peak RSS of the process, '
    + 'seconds per phase from the adapter\'s report.json (summed over epochs and members), the guard\'s verdict, and test WER with the default decoding '
    + '(scored afterwards, untimed). "scottish main" is `adapt-asr train --accent scottish --seed N` (base-en; the command scores the bundled test set itself, '
    + 'and that is in its time); "zh-L1 10 min" is `adapt-asr train --accent zh --data zh-train.jsonl --minutes 10 --seed N` (base-en-real; test: the 16 test speakers); '
    + '"second run" repeats seed 1 on the same data with the encoding cache its first run left (every first run starts with an empty cache). Command: `npm run build && node dist/bench/adapt-time.js --label LABEL`.', '');
  for (const r of all) {
    out.push(`### ${r.label} (${r.date}, commit ${r.commit}; ${r.machine})`, '');
    if (r.note) out.push(r.note, '');
    const runs = [...new Set(r.rows.map((x) => x.run))];
    out.push(table(['run', 'seeds', 'wall time by seed', 'mean wall', 'peak memory (max)', 'test WER by seed', 'mean test WER (base)', 'guard'],
      runs.map((name) => {
        const rs = r.rows.filter((x) => x.run === name);
        return [name, rs.map((x) => x.seed).join(', '), rs.map((x) => `${x.wallSec.toFixed(1)} s`).join(' / '), `${mean(rs.map((x) => x.wallSec)).toFixed(1)} s`,
          `${Math.max(...rs.map((x) => x.peakMB)).toFixed(0)} MB`, rs.map((x) => p(x.testWer)).join(' / '), `${p(mean(rs.map((x) => x.testWer)))} (${p(rs[0].baseTestWer)})`,
          rs.map((x) => (x.accepted ? 'accepted' : 'rejected')).join(' / ')];
      })), '');
    const phaseNames = [...new Set(r.rows.flatMap((x) => Object.keys(x.phases)))];
    out.push('Seconds per phase (seed 1 of each run; epochs: run / best):', '');
    const firsts = runs.map((name) => r.rows.find((x) => x.run === name)!);
    out.push(table(['phase', ...runs], [
      ...phaseNames.map((ph) => [ph, ...firsts.map((x) => s(x.phases[ph]))]),
      ['sum of phases', ...firsts.map((x) => s(Object.values(x.phases).reduce((a, b) => a + b, 0)))],
      ['process wall time', ...firsts.map((x) => s(x.wallSec))],
      ['epochs (run / best)', ...firsts.map((x) => `${x.epochs} / ${x.bestEpoch}`)],
    ]), '');
    const ran = Math.min(...r.rows.map((x) => x.patience ?? Infinity));
    const shorter = [3, 4, 5, 6, 7].filter((P) => P < ran);
    if (r.rows.some((x) => x.baseDev) && Number.isFinite(ran) && shorter.length) {
      out.push(`Early stopping replayed on these runs' dev histories (\`patienceReplay\`; they ran with patience ${ran}): with patience P, the epochs each member would have run, `
        + 'and how many members would have had the same candidate epochs, and so trained the very same adapter:', '');
      out.push(table(['patience', 'members with the same adapter', 'epochs run', 'epochs saved'], patienceReplay(r.rows, [...shorter, ran]).map((x) => [x.patience, `${x.same} of ${x.members}`, `${x.epochs} of ${x.ranEpochs}`, `${(100 * (1 - x.epochs / x.ranEpochs)).toFixed(0)}%`])), '');
    }
  }
  return out.join('\n');
}

/**
 * Early stopping replayed on the recorded dev histories: with patience P, where each member would have
 * stopped, and whether its candidate epochs (the best CANDIDATES by the per-epoch dev pass) would have
 * been the same as in the run, in which case it would have trained the very same adapter.
 */
export function patienceReplay(rows: TimeRow[], patience: number[], candidates = 3): { patience: number; members: number; same: number; epochs: number; ranEpochs: number }[] {
  const members = rows.flatMap((r) => {
    const ks = [...new Set(r.history.map((h) => h.member ?? 0))];
    return ks.map((k) => ({ h: r.history.filter((x) => (x.member ?? 0) === k).sort((a, b) => a.epoch - b.epoch), base: r.baseDev?.[k] ?? r.baseDev?.[0] }));
  }).filter((m) => m.base && m.h.length);
  const order = (a: { devWer: number; devLoss: number; epoch: number }, b: { devWer: number; devLoss: number; epoch: number }): number => (Math.abs(a.devWer - b.devWer) < 1e-9 ? a.devLoss - b.devLoss : a.devWer - b.devWer) || a.epoch - b.epoch;
  const top = (h: TimeRow['history']): string => [...h].sort(order).slice(0, candidates).map((x) => x.epoch).sort((a, b) => a - b).join(',');
  return patience.map((P) => {
    let same = 0, epochs = 0, ranEpochs = 0;
    for (const { h, base } of members) {
      let bestWer = base!.wer, bestLoss = base!.loss, minLoss = base!.loss, since = 0, stop = h[h.length - 1].epoch;
      for (const e of h) {
        const improved = e.devWer < bestWer - 1e-9 || (Math.abs(e.devWer - bestWer) < 1e-9 && e.devLoss < bestLoss);
        const lossImproved = e.devLoss < minLoss - 1e-6;
        if (lossImproved) minLoss = e.devLoss;
        if (improved) { bestWer = e.devWer; bestLoss = e.devLoss; }
        since = improved || lossImproved ? 0 : since + 1;
        if (since >= P) { stop = e.epoch; break; }
      }
      epochs += stop;
      ranEpochs += h[h.length - 1].epoch;
      if (top(h.filter((e) => e.epoch <= stop)) === top(h)) same++;
    }
    return { patience: P, members: members.length, same, epochs, ranEpochs };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const i = process.argv.indexOf('--label');
  const j = process.argv.indexOf('--train-args'); // e.g. --train-args "--patience 8"
  process.stdout.write(await benchAdaptTime(process.argv.includes('--quick'), i >= 0 ? process.argv[i + 1] : 'after', j >= 0 ? process.argv[j + 1].split(/\s+/).filter(Boolean) : []) + '\n');
}
