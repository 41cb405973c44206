/**
 * Stage 7 of recipes/base-en-real (with bench/real-voices for p239 and the zh-L1 test speakers): the
 * model and base-en side by side on the other test sets, and adaptation to the zh-L1 train-split
 * speakers (20 minutes, `adapt-asr train` with its defaults, seeds 1-2), scored on the test-split
 * speakers with the guard's verdict.
 *   - Kathleen's test prompts (the one real speaker the trunk trained on; prompts never trained on);
 *   - the bundled Scottish test set (audio-fixtures/accents/scottish/test: synthetic held-out voices);
 * with PocketSphinx's stock model and LM on the same files in the same run; and what `rank` recommends
 * on 2 minutes of the Scottish test set and of VCTK p239 (evaluation only).
 * Usage: node dist/recipes/base-en-real/evaluate.js --work DIR [--model base-en-real] [--seeds 1,2]
 * Writes DIR/eval.json (read by model-card.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zhManifests } from '../../bench/adaptation.js';
import { machine } from '../../bench/common.js';
import { pocketsphinxStock } from '../../bench/pocketsphinx.js';
import { readDataset, type Utterance } from '../../lib/data/manifest.js';
import { evaluate } from '../../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { rankModels } from '../../lib/train/rank.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');
const arg = (name: string, def: string): string => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : def);
const work = path.resolve(arg('work', path.join(os.homedir(), 'adapt-asr-work', 'base-en-real')));
const model = arg('model', 'base-en-real');
const seeds = arg('seeds', '1,2').split(',').map(Number);

interface Score { wer: number; cer: number; utterances: number; rtf: number }

async function score(m: string, utts: Utterance[], adapter?: string): Promise<Score> {
  const rec = await loadRecognizer({ model: m, adapter, threads: 1 });
  try {
    const r = await evaluate(rec, utts);
    return { wer: r.wer, cer: r.cer, utterances: r.utterances, rtf: r.seconds / r.audioSeconds };
  } finally {
    await rec.release();
  }
}

const sets: [string, Utterance[]][] = [
  ['Kathleen test', readDataset(path.join(work, 'kathleen-test.jsonl')).utterances],
  ['Scottish test (bundled, synthetic)', readDataset(path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test')).utterances],
];
const results: Record<string, Record<string, Score>> = {};
for (const [name, utts] of sets) {
  results[name] = {};
  for (const m of [model, 'base-en']) {
    results[name][m] = await score(m, utts);
    process.stderr.write(`${m} ${name}: WER ${(100 * results[name][m].wer).toFixed(1)}%\n`);
  }
  const ps = await pocketsphinxStock(utts);
  if (!('missing' in ps)) results[name].pocketsphinx = { wer: ps.wer, cer: ps.cer, utterances: utts.length, rtf: (ps.jobs * ps.seconds) / ps.audioSeconds };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-real-eval-'));
const adaptation: { seed: number; minutes: number; trainSec: number; accepted: boolean; base: Score; adapted: Score }[] = [];
try {
  const zh = zhManifests(tmp);
  if (zh) {
    const base = await score(model, zh.test);
    for (const seed of seeds) {
      const out = path.join(tmp, `zh-${seed}`);
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [BIN, 'train', '--accent', 'zh-l1', '--model', model, '--data', zh.train, '--out', out, '--seed', String(seed)], { encoding: 'utf8', cwd: tmp });
      if (r.status !== 0) throw new Error(`train failed: ${r.stderr.slice(-400)}`);
      const trainSec = (performance.now() - t0) / 1000;
      const meta = JSON.parse(fs.readFileSync(path.join(out, 'adapter.json'), 'utf8'));
      const adapted = await score(model, zh.test, out);
      adaptation.push({ seed, minutes: meta.data.minutes, trainSec, accepted: meta.dev.accepted, base, adapted });
      process.stderr.write(`zh-L1 seed ${seed}: ${(100 * base.wer).toFixed(1)}% -> ${(100 * adapted.wer).toFixed(1)}% (guard ${meta.dev.accepted ? 'accepts' : 'rejects'}, ${trainSec.toFixed(0)} s)\n`);
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
// `rank` on 2 minutes of each kind of data (without the adaptation probe): which bundled model it recommends.
const rank: Record<string, { recommended?: string; rows: { model: string; wer?: number }[] }> = {};
const p239 = path.join(ROOT, '..', 'shared', 'corpora', 'real', 'en-GB_vctk_p239');
for (const [name, data] of [['Scottish test (bundled, synthetic)', path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test')], ['VCTK p239 (real)', p239]] as const) {
  if (!fs.existsSync(data)) continue;
  const r = await rankModels({ data, models: [model, 'base-en'], minutes: 2, probe: false });
  rank[name] = { recommended: r.recommendation?.model, rows: r.rows.map((x) => ({ model: x.model, wer: x.wer })) };
  process.stderr.write(`rank on ${name}: recommends ${r.recommendation?.model}\n`);
}
const out = { date: new Date().toISOString().slice(0, 10), machine: machine(), command: `node dist/recipes/base-en-real/evaluate.js --model ${model} --seeds ${seeds.join(',')}`, sets: results, adaptation, rank };
fs.writeFileSync(path.join(work, 'eval.json.tmp'), JSON.stringify(out, null, 1) + '\n');
fs.renameSync(path.join(work, 'eval.json.tmp'), path.join(work, 'eval.json'));
console.log(JSON.stringify(out, null, 1));
