/**
 * bench/adaptation: accent adaptation with the bundled base model. For each amount of adaptation
 * data, `adapt-asr train` runs in a child process (wall time and peak memory measured, encoding
 * included), then base and adapted models are scored on the test split with the default decoding
 * (beam + LM + lexicon, as model.json says) and with greedy decoding.
 *   scottish: bundled audio-fixtures/accents/scottish/{train,test} (held-out TTS voices)
 *   zh-L1:    ../shared/corpora/real/zh-L1_speechocean762_adults, 16 train speakers -> 16 test speakers
 * Writes the BENCHMARKS.md section and docs/adaptation-data-efficiency.png. benchEnsembles():
 * `train --ensemble 4` at the seed table's sizes and seeds (its own section).
 * Usage: node dist/bench/adaptation.js [--quick]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateVariants } from '../lib/pipeline/evaluate.js';
import { DEFAULT_LM_WEIGHT, DEFAULT_WORD_BONUS, loadRecognizer } from '../lib/pipeline/recognizer.js';
import { linePlot } from '../lib/io/plot-png.js';
import type { Utterance } from '../lib/data/manifest.js';
import { resolveModel } from '../lib/encoder/registry.js';
import { machine, table } from './common.js';
import { zhL1Split } from './real-voices.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');

export interface AdaptationRow { set: string; method: string; minutes: number | 'all'; /** --minutes as given ('all': none) */ sizeArg?: number | 'all'; seed: number; trainSec: number; peakMB: number; accepted: boolean; /** The adapter's own LM weight / word bonus, when training chose them. */ ownDecoding?: string; base: { wer: number; cer: number }; adapted: { wer: number; cer: number }; baseGreedy: { wer: number }; adaptedGreedy: { wer: number } }

/** zh-L1 split as JSONL manifests with speakers (train and test speakers from speakers.tsv). */
export function zhManifests(tmp: string): { train: string; test: Utterance[] } | null {
  const shared = path.resolve(ROOT, '..', 'shared');
  const trainUtts = zhL1Split(shared, 'train'), test = zhL1Split(shared, 'test');
  if (!trainUtts || !test) return null;
  const train = path.join(tmp, 'zh-train.jsonl');
  fs.writeFileSync(train, trainUtts.map((u) => JSON.stringify({ audio_filepath: u.audio, text: u.text, speaker: u.speaker })).join('\n') + '\n');
  return { train, test };
}

/** The default decoding's name, as the recognizer reports it (set by the first score()). */
let defaultDecoding = 'default decoding';
let noLmDecoding = 'greedy';

async function score(adapter: string | undefined, test: string | Utterance[]): Promise<[{ wer: number; cer: number }, { wer: number; cer: number }]> {
  const rec = await loadRecognizer({ adapter, threads: os.cpus().length });
  try {
    defaultDecoding = rec.decodingName();
    noLmDecoding = rec.decodingName(rec.withoutLm);
    const [d, g] = await evaluateVariants(rec, test, [{}, rec.withoutLm]);
    return [{ wer: d.wer, cer: d.cer }, { wer: g.wer, cer: g.cer }];
  } finally {
    await rec.release();
  }
}

const EXTRA_SEEDS = [2, 3, 4];

/** One `adapt-asr train` process (timed, peak RSS) and the test scores of its adapter. */
async function trainAndScore(tmp: string, set: string, train: string, test: string | Utterance[], base: { wer: number; cer: number }, baseGreedy: { wer: number }, method: string, minutes: number | 'all', seed: number, ensemble = 1): Promise<AdaptationRow> {
  const out = path.join(tmp, `${set}-${method}-${minutes}-${seed}-${ensemble}`);
  const args = [BIN, 'train', '--accent', set, '--data', train, '--out', out, '--seed', String(seed), '--method', method, ...(minutes === 'all' ? [] : ['--minutes', String(minutes)]), ...(ensemble > 1 ? ['--ensemble', String(ensemble)] : [])];
  const t0 = performance.now();
  const timed = fs.existsSync('/usr/bin/time'); // Debian package `time`: peak RSS of the child
  const r = timed ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { encoding: 'utf8', cwd: tmp }) : spawnSync(process.execPath, args, { encoding: 'utf8', cwd: tmp });
  const trainSec = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`train failed (${set}, ${minutes}, seed ${seed}): ${r.stderr.slice(-500)}`);
  const peakMB = timed ? Number(r.stderr.trim().split('\n').pop()) / 1024 : NaN;
  const meta = JSON.parse(fs.readFileSync(path.join(out, 'adapter.json'), 'utf8'));
  const [adapted, adaptedGreedy] = await score(out, test);
  process.stderr.write(`${set} ${method}${ensemble > 1 ? ` x${ensemble}` : ''} ${minutes} min seed ${seed}: WER ${base.wer.toFixed(3)} -> ${adapted.wer.toFixed(3)} (${trainSec.toFixed(0)} s, ${peakMB.toFixed(0)} MB, accepted ${meta.dev.accepted})\n`);
  return { set, method: ensemble > 1 ? `${method}, ensemble ${ensemble}` : method, minutes: minutes === 'all' ? Math.round(meta.data.minutes * 10) / 10 : minutes, sizeArg: minutes, seed, trainSec, peakMB, accepted: meta.dev.accepted, ...(meta.decoding ? { ownDecoding: `${meta.decoding.lmWeight} / ${meta.decoding.wordBonus}` } : {}), base, adapted, baseGreedy, adaptedGreedy };
}

export async function benchAdaptation(quick = false): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-adapt-'));
  const rows: AdaptationRow[] = [], seedRows: AdaptationRow[] = [];
  try {
    const zh = zhManifests(tmp);
    const hasTop = !!resolveModel('base-en').manifest.trainableTop;
    const plans: [string, string, string | Utterance[], (number | 'all')[]][] = [
      ['scottish', path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'train'), path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test'), quick ? ['all'] : [1, 2, 5, 'all']],
    ];
    if (zh) plans.push(['zh-L1', zh.train, zh.test, quick ? [5] : [1, 2, 5, 10, 20]]);
    for (const [set, train, test, sizes] of plans) {
      const [base, baseGreedy] = await score(undefined, test);
      // The default method and, when the model ships trainable top blocks, --method top, at every size.
      const runs: [string, number | 'all'][] = (hasTop ? ['adapter', 'top'] : ['adapter']).flatMap((method) => sizes.map((m) => [method, m] as [string, number | 'all']));
      for (const [method, minutes] of runs) rows.push(await trainAndScore(tmp, set, train, test, base, baseGreedy, method, minutes, 1));
      // The seed moves test WER by several points at these sizes: the default method at 5 minutes and on all the
      // data (Scottish), or at 10 and 20 minutes (zh-L1), at more seeds.
      if (!quick) {
        for (const size of sizes.slice(-2)) {
          seedRows.push(rows.find((r) => r.set === set && r.method === 'adapter' && r.sizeArg === size)!); // seed 1
          for (const seed of EXTRA_SEEDS) seedRows.push(await trainAndScore(tmp, set, train, test, base, baseGreedy, 'adapter', size, seed));
        }
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const docs = path.join(ROOT, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  const colors: Record<string, [number, number, number]> = { 'scottish adapter': [30, 100, 200], 'scottish top': [90, 180, 240], 'zh-L1 adapter': [220, 80, 30], 'zh-L1 top': [240, 160, 60] };
  const sets = [...new Set(rows.map((r) => r.set))];
  fs.writeFileSync(path.join(docs, 'adaptation-data-efficiency.png'), linePlot(sets.flatMap((s) => {
    const methods = [...new Set(rows.filter((r) => r.set === s).map((r) => r.method))];
    const first = rows.filter((r) => r.set === s && r.method === methods[0]);
    return [...methods.map((m) => {
      const rs = rows.filter((r) => r.set === s && r.method === m);
      return { name: `${s} ${m}`, x: rs.map((r) => Number(r.minutes)), y: rs.map((r) => 100 * r.adapted.wer), color: colors[`${s} ${m}`] ?? [0, 0, 0] as [number, number, number] };
    }), { name: `${s} base`, x: first.map((r) => Number(r.minutes)), y: first.map((r) => 100 * r.base.wer), color: [160, 160, 160] as [number, number, number] }];
  }), { title: 'WER vs minutes of adaptation data', xLabel: 'minutes of adaptation data', yLabel: 'WER %' }));
  const date = new Date().toISOString().slice(0, 10);
  fs.writeFileSync(path.join(docs, 'adaptation-results.json'), JSON.stringify({ date, machine: machine(), command: 'node dist/bench/adaptation.js', rows, seedRows }, null, 1) + '\n');
  return [
    '## Accent adaptation (`bench/adaptation`)', '',
    `Measured ${date} on ${machine()}. Command: \`npm run build && node dist/bench/adaptation.js\`. Base model: models/base-en; methods \`adapter\` (default) and \`top\` (fine-tuning the encoder's last two blocks and the head) at every size, default settings (speed perturbation 0.9 / 1 / 1.1 on), seed 1. `
      + `WER/CER on the test split with the default decoding (${defaultDecoding}; ${noLmDecoding === 'greedy' ? 'greedy' : `${noLmDecoding}, without the LM,`} in the last columns); training judges its dev set with the same default decoding. Train time is the whole \`adapt-asr train\` process (encoding, training, writing, and the final test scoring when the data has a test split); peak memory is its maximum RSS. `
      + '"guard" says whether training judged the adapter better on its held-out dev set (whole speakers for zh-L1, each voice\'s share for Scottish).', '',
    table(['set', 'method', 'minutes', 'base WER', 'adapted WER', 'relative WER reduction (negative: worse)', 'base CER', 'adapted CER', `${noLmDecoding === 'greedy' ? 'greedy' : 'no-LM'} base / adapted WER`, 'guard', 'train time', 'peak memory'],
      rows.map((r) => [r.set, r.method, r.minutes, p(r.base.wer), p(r.adapted.wer), rel(r.base.wer, r.adapted.wer), p(r.base.cer), p(r.adapted.cer), `${p(r.baseGreedy.wer)} / ${p(r.adaptedGreedy.wer)}`, r.accepted ? 'accepted' : 'rejected', `${r.trainSec.toFixed(0)} s`, `${r.peakMB.toFixed(0)} MB`])), '',
    '![WER against minutes of adaptation data](docs/adaptation-data-efficiency.png)', '',
    ...(seedRows.length ? seedTable(seedRows) : []),
  ].join('\n');
}

/** Members of the ensembles measured, and the sizes and seeds they are measured at. */
const ENSEMBLE = 4;
const ENSEMBLE_PLAN: Record<string, { sizes: (number | 'all')[]; seeds: number[] }> = { scottish: { sizes: [5, 'all'], seeds: [1, 2, 3, 4] }, 'zh-L1': { sizes: [20], seeds: [1, 2, 3] } };

/**
 * `train --ensemble 4` against one adapter: the same sets, sizes and seeds as the single adapters' seed
 * table, so the two tables compare run for run. Writes its own BENCHMARKS.md section and
 * docs/adaptation-ensembles.json.
 */
export async function benchEnsembles(quick = false): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-ens-'));
  const rows: AdaptationRow[] = [];
  try {
    const zh = zhManifests(tmp);
    const sets: [string, string, string | Utterance[]][] = [['scottish', path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'train'), path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test')]];
    if (zh && !quick) sets.push(['zh-L1', zh.train, zh.test]);
    for (const [set, train, test] of sets) {
      const [base, baseGreedy] = await score(undefined, test);
      const plan = ENSEMBLE_PLAN[set];
      for (const size of quick ? ['all' as const] : plan.sizes) for (const seed of quick ? [1] : plan.seeds) rows.push(await trainAndScore(tmp, set, train, test, base, baseGreedy, 'adapter', size, seed, ENSEMBLE));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const date = new Date().toISOString().slice(0, 10);
  const docs = path.join(ROOT, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  fs.writeFileSync(path.join(docs, 'adaptation-ensembles.json'), JSON.stringify({ date, machine: machine(), command: 'node dist/bench/run-all.js --only ensembles', rows }, null, 1) + '\n');
  const seconds = (rs: AdaptationRow[]): string => `${Math.min(...rs.map((r) => r.trainSec)).toFixed(0)}-${Math.max(...rs.map((r) => r.trainSec)).toFixed(0)} s`;
  return [
    `## Adapter ensembles (\`train --ensemble ${ENSEMBLE}\`, \`bench/adaptation\`)`, '',
    `Measured ${date} on ${machine()}. Command: \`npm run build && node dist/bench/run-all.js --only ensembles\`. \`adapt-asr train --ensemble ${ENSEMBLE}\`: the data dealt into ${ENSEMBLE} folds `
      + '(whole speakers for zh-L1, each voice\'s share for Scottish), one adapter trained per fold on the other three and stopped on its own fold, their posteriors averaged when decoding; '
      + 'the guard judges every utterance with the member that never trained on it. Test WER decoded as `transcribe` decodes with the adapter: the model\'s beam, LM and dictionary, at the adapter\'s own LM weight and word bonus when training chose them on its 1,000+ dev words '
      + `(column "own LM weight / bonus"; "-": the model's, ${modelLmTuning()}), against the base model with its own; the same sets, sizes and seeds as the single-adapter seed table above. Train time is the whole process, peak memory its maximum RSS.`, '',
    table(['set', 'minutes', 'base WER', 'ensemble WER by seed', 'mean', 'relative WER reduction of the mean', 'range', 'accepted', 'own LM weight / bonus by seed', 'train time', 'peak memory'],
      bySeed(rows).map(({ rs, cells }) => [...cells, rs.map((r) => r.ownDecoding ?? '-').join(', '), seconds(rs), `${Math.max(...rs.map((r) => r.peakMB)).toFixed(0)} MB`])), '',
  ].join('\n');
}

/** The bundled model's tuned LM weight / word bonus (model.json `decoding`), as the tables print them. */
function modelLmTuning(): string {
  const d = resolveModel('base-en').manifest.decoding ?? {};
  return `${d.lmWeight ?? DEFAULT_LM_WEIGHT} / ${d.wordBonus ?? DEFAULT_WORD_BONUS}`;
}

const p = (x: number): string => `${(100 * x).toFixed(1)}%`;
const rel = (b: number, a: number): string => (b > 0 ? `${(100 * (b - a) / b).toFixed(1)}%` : '-');

/** Rows grouped by set and size, each group's adapted WER by seed, its mean, relative reduction, range and guard count. */
function bySeed(rows: AdaptationRow[]): { rs: AdaptationRow[]; cells: string[] }[] {
  return [...new Set(rows.map((r) => `${r.set}\t${r.minutes}`))].map((key) => {
    const rs = rows.filter((r) => `${r.set}\t${r.minutes}` === key);
    const w = rs.map((r) => r.adapted.wer), mean = w.reduce((a, b) => a + b, 0) / w.length;
    return { rs, cells: [rs[0].set, String(rs[0].minutes), p(rs[0].base.wer), w.map(p).join(' / '), p(mean), rel(rs[0].base.wer, mean), `${p(Math.min(...w))} - ${p(Math.max(...w))}`, `${rs.filter((r) => r.accepted).length} of ${rs.length}`] };
  });
}

/** Mean and range over seeds of the default method: a target judged at one seed is a coin toss. */
export function seedTable(rows: AdaptationRow[]): string[] {
  return [
    `Seeds: \`adapter\` at the two largest sizes at seeds ${[...new Set(rows.map((r) => r.seed))].join(', ')} (the seed draws the subset, the dev split, the initial weights and the batches).`, '',
    table(['set', 'minutes', 'base WER', 'adapted WER by seed', 'mean', 'relative WER reduction of the mean', 'range', 'accepted'], bySeed(rows).map((g) => g.cells)), '',
  ];
}
