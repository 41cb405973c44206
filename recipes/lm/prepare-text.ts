/**
 * LM text: ../shared/corpora/text/sentences.txt, normalised with adapt-asr's own normaliser, minus
 * every sentence any evaluation reads: all CMU ARCTIC prompts (Kathleen), and the TTS dev/test and
 * accent sentences reserved by the base-en recipe (its splits.json). One sentence per line.
 * Usage: node dist/recipes/lm/prepare-text.js --shared ../shared --splits WORK/splits.json --out lm.txt
 */
import fs from 'node:fs';
import path from 'node:path';
import { normalizeText } from '../../lib/text/normalize.js';

const arg = (name: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`missing --${name}`);
  return process.argv[i + 1];
};
const shared = arg('shared'), splits = JSON.parse(fs.readFileSync(arg('splits'), 'utf8')) as { accentSentences: string[]; ttsDev: string[]; ttsTest: string[] };
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
fs.writeFileSync(arg('out'), kept.join('\n') + '\n');
process.stdout.write(`${kept.length} sentences (${kept.reduce((a, s) => a + s.split(' ').length, 0)} words) kept, ${dropped} excluded\n`);
