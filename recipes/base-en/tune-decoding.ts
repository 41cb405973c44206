/**
 * Tune beam search on the dev sets (TTS dev and Kathleen dev; never on test data): LM weight x word
 * bonus, with and without the lexicon (only the LM's words may be spelled; without it, a phone model
 * may spell any word of its dictionary), and store the best in model.json `decoding`. Encodes each utterance once.
 * Usage: node dist/recipes/base-en/tune-decoding.js --work WORK --model models/base-en
 */
import fs from 'node:fs';
import path from 'node:path';
import { readDataset } from '../../lib/data/manifest.js';
import { validateManifest } from '../../lib/encoder/manifest.js';
import { evaluateVariants } from '../../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';

const arg = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1];
const work = arg('work'), model = arg('model');
const dev = [...readDataset(path.join(work, 'manifests', 'tts-dev.jsonl')).utterances, ...readDataset(path.join(work, 'manifests', 'kathleen-dev.jsonl')).utterances];
// Beam 16: on base-en 1.1.0's dev sets with the lexicon, beam 8 / 16 / 32 gave WER 66.6 / 64.7 / 63.0%
// at about 2 / 6 / 14 s of decoding for 340 utterances; 16 keeps beam + LM decoding near RTF 0.01.
const BEAM = 16;
const rec = await loadRecognizer({ model, threads: 1 });
const grid: { lmWeight: number; wordBonus: number; lexicon: boolean }[] = [];
for (const lexicon of [false, true]) {
  for (const lmWeight of [0.15, 0.3, 0.5, 0.8, 1.2]) for (const wordBonus of [-1, 0, 1, 2, 3, 4]) grid.push({ lmWeight, wordBonus, lexicon });
}
const variants = [rec.withoutLm, ...grid.map((g) => ({ beam: BEAM, ...g }))];
const res = await evaluateVariants(rec, dev, variants);
await rec.release();
let best = 1;
for (let i = 2; i < res.length; i++) if (res[i].wer < res[best].wer) best = i;
const chosen = grid[best - 1];
process.stdout.write(`dev (${res[0].utterances} utterances): ${rec.pronunciations ? 'without the LM' : 'greedy'} WER ${(100 * res[0].wer).toFixed(1)}%; best beam ${BEAM} + LM: weight ${chosen.lmWeight}, word bonus ${chosen.wordBonus}, lexicon ${chosen.lexicon}: WER ${(100 * res[best].wer).toFixed(1)}%\n`);
for (let i = 1; i < res.length; i++) process.stderr.write(`  lmWeight ${grid[i - 1].lmWeight} wordBonus ${grid[i - 1].wordBonus} lexicon ${grid[i - 1].lexicon}: WER ${(100 * res[i].wer).toFixed(2)}%\n`);
const file = path.join(model, 'model.json');
const m = JSON.parse(fs.readFileSync(file, 'utf8'));
m.decoding = { beam: BEAM, lmWeight: chosen.lmWeight, wordBonus: chosen.wordBonus, lexicon: chosen.lexicon };
validateManifest(m, file);
fs.writeFileSync(file, JSON.stringify(m, null, 2) + '\n');
fs.writeFileSync(path.join(model, 'tuning.json'), JSON.stringify({ dev: 'tts-dev + kathleen-dev', greedyWer: res[0].wer, grid: grid.map((g, i) => ({ ...g, wer: res[i + 1].wer })), chosen }, null, 1) + '\n');
