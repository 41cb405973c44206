/**
 * LM text: ../shared/corpora/text/sentences.txt, normalised with adapt-asr's own normaliser, minus
 * every sentence any evaluation reads: all CMU ARCTIC prompts (Kathleen), and the TTS dev/test and
 * accent sentences reserved by the base-en recipe (its splits.json). One sentence per line.
 * With --kathleen-train, Kathleen's training prompts (splits.json `kathleen.train`, the prompts the acoustic model
 * trains on; never her dev or test prompts) are added: training transcripts, and the only text from the books her
 * test prompts come from; --kathleen-repeat N writes each of them N times (weights them in the counts).
 * Usage: node dist/recipes/lm/prepare-text.js --shared ../shared --splits WORK/splits.json --out lm.txt [--kathleen-train [--kathleen-repeat N]]
 */
import fs from 'node:fs';
import path from 'node:path';
import { normalizeText } from '../../lib/text/normalize.js';

const arg = (name: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`missing --${name}`);
  return process.argv[i + 1];
};
const shared = arg('shared'), splits = JSON.parse(fs.readFileSync(arg('splits'), 'utf8')) as {
  accentSentences: string[]; ttsDev: string[]; ttsTest: string[]; kathleen: Record<'train' | 'dev' | 'test', string[]>;
};
const textDir = path.join(shared, 'corpora', 'text');
const exclude = new Set<string>();
for (const s of fs.readFileSync(path.join(textDir, 'by-source', 'cmu_arctic.txt'), 'utf8').split('\n')) exclude.add(normalizeText(s));
for (const s of [...splits.accentSentences, ...splits.ttsDev, ...splits.ttsTest]) exclude.add(normalizeText(s));
exclude.delete('');
const kept: string[] = [];
let dropped = 0;
for (const s of fs.readFileSync(path.join(textDir, 'sentences.txt'), 'utf8').split('\n')) {
  const n = normalizeText(s);
  if (!n) continue;
  if (exclude.has(n)) { dropped++; continue; }
  kept.push(n);
}
let kathleen = 0;
const repeatAt = process.argv.indexOf('--kathleen-repeat');
const repeat = repeatAt < 0 ? 1 : Number(process.argv[repeatAt + 1]);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--kathleen-repeat: expected a whole number of at least 1, got ${process.argv[repeatAt + 1]}`);
if (process.argv.includes('--kathleen-train')) {
  const kDir = path.join(shared, 'corpora', 'real', 'en-US_kathleen');
  const prompts = new Map(fs.readFileSync(path.join(kDir, 'transcripts.tsv'), 'utf8').split('\n').filter(Boolean)
    .map((l) => l.split('\t') as [string, string]));
  const held = new Set([...splits.kathleen.dev, ...splits.kathleen.test].map((f) => normalizeText(prompts.get(f) ?? '')));
  for (const f of splits.kathleen.train) {
    const n = normalizeText(prompts.get(f) ?? '');
    if (!n || held.has(n)) continue; // a training prompt that is also a dev or test prompt stays out
    for (let k = 0; k < repeat; k++) kept.push(n);
    kathleen++;
  }
}
fs.writeFileSync(arg('out'), kept.join('\n') + '\n');
const words = kept.reduce((a, s) => a + s.split(' ').length, 0);
// What build.sh records in the model folder (lm.json) for the model card.
fs.writeFileSync(`${arg('out')}.json`, JSON.stringify({ sentences: kept.length, words, excluded: dropped, kathleenTrain: kathleen, kathleenRepeat: kathleen ? repeat : 0 }) + '\n');
process.stdout.write(`${kept.length} sentences (${kathleen} Kathleen training prompts${repeat > 1 ? `, each ${repeat} times` : ''}) (${words} words) kept, ${dropped} excluded\n`);
