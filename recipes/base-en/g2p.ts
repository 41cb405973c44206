/**
 * Learn the letter-to-phone rules a phone model uses for words its dictionary lacks, from the
 * dictionary itself, and measure them first: 1 word in 20 (chosen by a hash of the word) is held
 * out, rules are learned on the rest, and every held-out word is guessed three ways (letters only,
 * by parts then letters, by parts alone where it applies), scored by word accuracy (the guess is
 * one of the word's pronunciations) and phone error rate (against the closest). Then the rules are
 * learned on the whole dictionary and written beside it (g2p.txt.gz, named in model.json as
 * ctcHead.g2p); the measurement goes to g2p.json.
 * Usage: node dist/recipes/base-en/g2p.js --model models/base-en [--context 4] [--min-count 1]
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { LetterToPhone, guessByParts } from '../../lib/decode/g2p.js';
import { Pronunciations } from '../../lib/decode/pronunciations.js';
import { loadManifest } from '../../lib/encoder/manifest.js';
import { align } from '../../lib/eval/wer.js';

const arg = (name: string, def?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def ?? (() => { throw new Error(`--${name} is required`); })();
};
const model = arg('model');
const context = Number(arg('context', '4'));
const minCount = Number(arg('min-count', '1'));
const md = loadManifest(model);
const dictFile = md.manifest.ctcHead?.pronunciations;
if (!dictFile) throw new Error(`${model}: not a phone model (no ctcHead.pronunciations)`);
const pron = Pronunciations.load(path.join(model, dictFile));

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
const train: Array<[string, string[]]> = [];
const held: string[] = [];
for (const w of pron.words()) {
  if (hash(w) % 20 === 0) held.push(w); else train.push([w, pron.of(w)![0]]);
}
const trainDict = new Map(train);
const t0 = Date.now();
const rules = LetterToPhone.train(train, { context, minCount });
const trainSeconds = (Date.now() - t0) / 1000;

type Score = { words: number; right: number; phones: number; errors: number };
const blank = (): Score => ({ words: 0, right: 0, phones: 0, errors: 0 });
function score(s: Score, word: string, guess: string[]): void {
  let best = Infinity, len = 0;
  for (const p of pron.of(word)!) {
    const c = align(p, guess);
    const e = c.substitutions + c.deletions + c.insertions;
    if (e < best) { best = e; len = p.length; }
  }
  s.words++; s.phones += len; s.errors += best; if (best === 0) s.right++;
}
const letters = blank(), parts = blank(), partsOnly = blank();
for (const w of held) {
  const byLetters = rules.guess(w);
  const byParts = guessByParts(w, (x) => trainDict.get(x));
  score(letters, w, byLetters);
  score(parts, w, byParts ?? byLetters);
  if (byParts) score(partsOnly, w, byParts);
}
const report = (s: Score) => ({ words: s.words, wordAccuracy: +(s.right / s.words).toFixed(4), phoneErrorRate: +(s.errors / s.phones).toFixed(4) });
const heldOut = { lettersOnly: report(letters), partsThenLetters: report(parts), partsWhereTheyApply: report(partsOnly) };

const all = LetterToPhone.train([...pron.words()].map((w) => [w, pron.of(w)![0]] as [string, string[]]), { context, minCount });
const out = path.join(model, 'g2p.txt.gz');
fs.writeFileSync(`${out}.tmp`, zlib.gzipSync(all.serialize(), { level: 9 }));
fs.renameSync(`${out}.tmp`, out);
const result = {
  date: new Date().toISOString().slice(0, 10),
  command: `node dist/recipes/base-en/g2p.js --model ${model} --context ${context} --min-count ${minCount}`,
  dictionaryWords: pron.size, trainWords: train.length, context, minCount, rules: all.size, trainSeconds: +trainSeconds.toFixed(1), heldOut,
};
fs.writeFileSync(path.join(model, 'g2p.json'), `${JSON.stringify(result, null, 1)}\n`);
const manifestFile = path.join(model, 'model.json');
const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
manifest.ctcHead.g2p = 'g2p.txt.gz';
fs.writeFileSync(`${manifestFile}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
fs.renameSync(`${manifestFile}.tmp`, manifestFile);
process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
