/**
 * Stage 7 of the base-en recipe: the numbers of MODEL_CARD.md. WER and CER of a model with the
 * default decoding of `adapt-asr eval` (model.json `decoding`: beam + the bundled LM + lexicon) and greedily, on
 *   (a) held-out sentences of the training TTS voices (tts-test),
 *   (b) held-out Kathleen prompts (kathleen-test, real US English speech),
 *   (c) the unseen Scottish voices (the bundled audio-fixtures/accents/scottish/test),
 *   (d) the real Mandarin-L1 speakers of zh-L1_speechocean762_adults (test split).
 * Writes <model>/eval.json and prints a markdown table.
 * Usage: node dist/recipes/base-en/evaluate.js --work WORK --model models/base-en [--shared ../shared]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluateVariants } from '../../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import type { Utterance } from '../../lib/data/manifest.js';
import { readDataset } from '../../lib/data/manifest.js';

const arg = (name: string, def?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 && def === undefined) throw new Error(`missing --${name}`);
  return i >= 0 ? process.argv[i + 1] : def!;
};
const work = arg('work'), model = arg('model'), shared = arg('shared', '../shared');
const zhDir = path.join(shared, 'corpora', 'real', 'zh-L1_speechocean762_adults');

function zhTest(): Utterance[] {
  const split = new Map(fs.readFileSync(path.join(zhDir, 'speakers.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')).map((c) => [c[0], { speaker: c[1], split: c[4] }]));
  return readDataset(zhDir).utterances.filter((u) => split.get(path.basename(u.audio))?.split === 'test').map((u) => ({ ...u, speaker: split.get(path.basename(u.audio))!.speaker }));
}

const sets: [string, () => Utterance[] | string][] = [
  ['(a) TTS voices, held-out sentences', () => path.join(work, 'manifests', 'tts-test.jsonl')],
  ['(b) Kathleen (real, US English), held-out prompts', () => path.join(work, 'manifests', 'kathleen-test.jsonl')],
  ['(c) Scottish voices, unseen (bundled test set)', () => path.join('audio-fixtures', 'accents', 'scottish', 'test')],
  ['(d) zh-L1 speechocean762, 16 test speakers (real)', zhTest],
];

const rec = await loadRecognizer({ model, threads: 1 });
const noLm = rec.withoutLm; // greedy, or a phone model's beam without the LM
const results: Record<string, unknown>[] = [];
const rows: string[] = [];
for (const [name, get] of sets) {
  const data = get();
  const [def, greedy] = await evaluateVariants(rec, data, [{}, noLm]);
  results.push({ set: name, default: def, greedy });
  const p = (x: number): string => `${(100 * x).toFixed(1)}%`;
  rows.push(`| ${name} | ${def.utterances} | ${p(def.wer)} | ${p(def.cer)} | ${p(greedy.wer)} | ${p(greedy.cer)} | ${(def.seconds / def.audioSeconds).toFixed(3)} |`);
  process.stderr.write(`${rows[rows.length - 1]}\n`);
}
const dn = rec.decodingName();
const gn = rec.decodingName(noLm);
const header = `| test set | utterances | WER (${dn}) | CER (${dn}) | WER (${gn}) | CER (${gn}) | RTF (1 thread, incl. decoding) |\n| --- | --- | --- | --- | --- | --- | --- |`;
await rec.release();
fs.writeFileSync(path.join(model, 'eval.json'), JSON.stringify({ date: new Date().toISOString(), machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model}`, command: process.argv.slice(1).join(' '), decoding: dn, greedyDecoding: gn, results }, null, 1) + '\n');
process.stdout.write(`${header}\n${rows.join('\n')}\n`);
