/**
 * Tune beam search on the dev sets (TTS dev and Kathleen dev; never on test data): at beam 16, LM weight x word
 * bonus, with and without the lexicon (only the LM's words may be spelled; without it, a phone model
 * may spell any word of its dictionary); then the three best at beams 32, 64 and 128; then a local search around the
 * best at its beam (LM weight in steps of 0.1, bonus in steps of 0.5); then a blank penalty (0.5-2 nats per frame) and, if
 * one helps, the local search again with it. The best goes into
 * model.json `decoding` (a wider beam only for half a point of dev WER or more). Then, for a phone model, the word
 * bonus for decoding without the LM at that beam (`noLmWordBonus`: the LM's bonus is the wrong one there).
 * Usage: node dist/recipes/base-en/tune-decoding.js --work WORK --model models/base-en [--no-lm-only] [--dev a.jsonl,b.jsonl]
 * (--no-lm-only: keep the LM settings in model.json and tune only the no-LM bonus.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { readDataset } from '../../lib/data/manifest.js';
import { validateManifest } from '../../lib/encoder/manifest.js';
import { evaluateVariants } from '../../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';

const arg = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1];
const work = arg('work'), model = arg('model');
// --dev a.jsonl,b.jsonl: other dev sets (recipes/base-en-real tunes on Kathleen's dev prompts only).
const dev = process.argv.includes('--dev')
  ? arg('dev').split(',').flatMap((f) => readDataset(f).utterances)
  : [...readDataset(path.join(work, 'manifests', 'tts-dev.jsonl')).utterances, ...readDataset(path.join(work, 'manifests', 'kathleen-dev.jsonl')).utterances];
// Beam 16: on base-en 1.1.0's dev sets with the lexicon, beam 8 / 16 / 32 gave WER 66.6 / 64.7 / 63.0%
// at about 2 / 6 / 14 s of decoding for 340 utterances; 16 keeps beam + LM decoding near RTF 0.01.
const BEAM = 16;
const WIDER = [32, 64, 128];
const rec = await loadRecognizer({ model, threads: 1 });
const file = path.join(model, 'model.json');
const tuningFile = path.join(model, 'tuning.json');
const NO_LM_BONUSES = [-6, -5, -4, -3, -2, -1, 0, 1];

/** Dev WER without the LM at each bonus of NO_LM_BONUSES (at the given beam); the best one. */
async function tuneNoLm(beam: number, blankPenalty: number): Promise<{ wordBonus: number; wer: number; tried: { wordBonus: number; wer: number }[] } | undefined> {
  if (!rec.pronunciations) return undefined; // a character model decodes greedily without the LM
  const r = await evaluateVariants(rec, dev, NO_LM_BONUSES.map((wordBonus) => ({ ...rec.withoutLm, beam, wordBonus, blankPenalty })));
  const tried = NO_LM_BONUSES.map((wordBonus, i) => ({ wordBonus, wer: r[i].wer }));
  for (const t of tried) process.stderr.write(`  beam ${beam} without the LM, wordBonus ${t.wordBonus}: WER ${(100 * t.wer).toFixed(2)}%\n`);
  const best = tried.reduce((a, b) => (b.wer < a.wer ? b : a));
  return { ...best, tried };
}

/** model.json and tuning.json, each written to a temporary file and renamed. */
function save(m: unknown, tuning: unknown): void {
  validateManifest(m, file);
  for (const [f, v, indent] of [[file, m, 2], [tuningFile, tuning, 1]] as const) {
    fs.writeFileSync(`${f}.tmp`, JSON.stringify(v, null, indent) + '\n');
    fs.renameSync(`${f}.tmp`, f);
  }
}

if (process.argv.includes('--no-lm-only')) {
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  const beam = m.decoding?.beam ?? 8;
  const noLm = await tuneNoLm(beam, m.decoding?.blankPenalty ?? 0);
  await rec.release();
  if (!noLm) throw new Error(`${file}: not a phone model; nothing to tune without the LM`);
  process.stdout.write(`dev (${dev.length} utterances) without the LM at beam ${beam}: word bonus ${noLm.wordBonus}, WER ${(100 * noLm.wer).toFixed(1)}%\n`);
  m.decoding = { ...m.decoding, noLmWordBonus: noLm.wordBonus };
  const tuning = JSON.parse(fs.readFileSync(tuningFile, 'utf8'));
  save(m, { ...tuning, noLm: { beam, tried: noLm.tried, chosen: noLm.wordBonus } });
  process.exit(0);
}
const grid: { lmWeight: number; wordBonus: number; lexicon: boolean }[] = [];
for (const lexicon of [false, true]) {
  for (const lmWeight of [0.15, 0.3, 0.5, 0.8, 1.2]) for (const wordBonus of [-1, 0, 1, 2, 3, 4]) grid.push({ lmWeight, wordBonus, lexicon });
}
// Without a blank penalty until its own search below (explicitly: the model.json being re-tuned may have one).
const variants = [{ ...rec.withoutLm, wordBonus: 0, blankPenalty: 0 }, ...grid.map((g) => ({ beam: BEAM, ...g, blankPenalty: 0 }))];
const res = await evaluateVariants(rec, dev, variants);
let best = 1;
for (let i = 2; i < res.length; i++) if (res[i].wer < res[best].wer) best = i;
process.stderr.write(grid.map((g, i) => `  beam ${BEAM} lmWeight ${g.lmWeight} wordBonus ${g.wordBonus} lexicon ${g.lexicon}: WER ${(100 * res[i + 1].wer).toFixed(2)}%\n`).join(''));
// Then the three best settings with wider beams (a phone model segments words as it searches, and
// gained most from width: base-en 2.0 at 24 min, Scottish test, beam 8 / 16 / 32 / 64: 47.1 / 47.4 / 43.6 / 42.5%).
const top3 = grid.map((g, i) => ({ ...g, wer: res[i + 1].wer })).sort((a, b) => a.wer - b.wer).slice(0, 3);
const wide = top3.flatMap((g) => WIDER.map((beam) => ({ beam, lmWeight: g.lmWeight, wordBonus: g.wordBonus, lexicon: g.lexicon, blankPenalty: 0 })));
const wideRes = await evaluateVariants(rec, dev, wide);
const tried = [...top3.map((g) => ({ beam: BEAM, lmWeight: g.lmWeight, wordBonus: g.wordBonus, lexicon: g.lexicon, wer: g.wer })), ...wide.map((w, i) => ({ ...w, wer: wideRes[i].wer }))];
for (const t of tried.slice(3)) process.stderr.write(`  beam ${t.beam} lmWeight ${t.lmWeight} wordBonus ${t.wordBonus} lexicon ${t.lexicon}: WER ${(100 * t.wer).toFixed(2)}%\n`);
// The lowest dev WER; a wider beam must gain at least half a point to be worth its time.
const lowest = Math.min(...tried.map((t) => t.wer));
const coarse = tried.filter((t) => t.wer <= lowest + 0.005).sort((a, b) => a.beam - b.beam || a.wer - b.wer)[0];
// Then a local search at that beam in steps finer than the grid's (LM weight 0.1, bonus 0.5), moving to the best
// neighbour while it is better, for at most ROUNDS rounds. On base-en 2.4.1's dev sets the grid's pick (0.5, +1: 28.11%)
// had neighbours down to 27.60% (0.6, +0.5).
const ROUNDS = 5;
interface Point { lmWeight: number; wordBonus: number; wer: number }
/** The local search from `start` with this blank penalty; every point tried is added to `seen`. */
async function localSearch(start: Point, blankPenalty: number, seen: Point[]): Promise<Point> {
  let at = start;
  for (let round = 0; round < ROUNDS; round++) {
    const tried = new Set(seen.map((q) => `${q.lmWeight} ${q.wordBonus}`));
    const next: { lmWeight: number; wordBonus: number }[] = [];
    for (const dw of [-0.1, 0, 0.1]) {
      for (const db of [-0.5, 0, 0.5]) {
        const q = { lmWeight: Math.round((at.lmWeight + dw) * 100) / 100, wordBonus: at.wordBonus + db };
        if (q.lmWeight > 0 && !tried.has(`${q.lmWeight} ${q.wordBonus}`)) next.push(q);
      }
    }
    if (!next.length) break;
    const r = await evaluateVariants(rec, dev, next.map((q) => ({ beam: coarse.beam, lexicon: coarse.lexicon, blankPenalty, ...q })));
    next.forEach((q, i) => {
      seen.push({ ...q, wer: r[i].wer });
      process.stderr.write(`  beam ${coarse.beam} lmWeight ${q.lmWeight} wordBonus ${q.wordBonus} lexicon ${coarse.lexicon} blankPenalty ${blankPenalty} (local search): WER ${(100 * r[i].wer).toFixed(2)}%\n`);
    });
    const best = seen.reduce((a, b) => (b.wer < a.wer ? b : a));
    if (best.wer >= at.wer) break;
    at = best;
  }
  return at;
}
const refined: Point[] = [{ lmWeight: coarse.lmWeight, wordBonus: coarse.wordBonus, wer: coarse.wer }];
let pick = { ...coarse, ...(await localSearch(refined[0], 0, refined)), blankPenalty: 0 };
// Then a blank penalty (nats off the blank per frame), and the local search again from the best one. On base-en 2.4.1's
// dev sets with look-ahead: penalty 1 with LM 0.7 / bonus -1 gave 25.30% against 25.84% without (0.6 / -1).
const BLANK_PENALTIES = [0.5, 1, 1.5, 2];
const blankRes = await evaluateVariants(rec, dev, BLANK_PENALTIES.map((blankPenalty) => ({ beam: pick.beam, lexicon: pick.lexicon, lmWeight: pick.lmWeight, wordBonus: pick.wordBonus, blankPenalty })));
const blankTried = BLANK_PENALTIES.map((blankPenalty, i) => ({ blankPenalty, wer: blankRes[i].wer }));
for (const t of blankTried) process.stderr.write(`  beam ${pick.beam} lmWeight ${pick.lmWeight} wordBonus ${pick.wordBonus} blankPenalty ${t.blankPenalty}: WER ${(100 * t.wer).toFixed(2)}%\n`);
const bestBlank = blankTried.reduce((a, b) => (b.wer < a.wer ? b : a));
const reRefined: Point[] = [];
if (bestBlank.wer < pick.wer) {
  reRefined.push({ lmWeight: pick.lmWeight, wordBonus: pick.wordBonus, wer: bestBlank.wer });
  pick = { ...pick, ...(await localSearch(reRefined[0], bestBlank.blankPenalty, reRefined)), blankPenalty: bestBlank.blankPenalty };
}
const chosen = { lmWeight: pick.lmWeight, wordBonus: pick.wordBonus, lexicon: pick.lexicon, blankPenalty: pick.blankPenalty };
process.stdout.write(`dev (${res[0].utterances} utterances): ${rec.pronunciations ? 'without the LM' : 'greedy'} WER ${(100 * res[0].wer).toFixed(1)}%; best: beam ${pick.beam} + LM weight ${pick.lmWeight}, word bonus ${pick.wordBonus}, lexicon ${pick.lexicon}, blank penalty ${pick.blankPenalty}: WER ${(100 * pick.wer).toFixed(1)}%\n`);
const noLm = await tuneNoLm(pick.beam, pick.blankPenalty);
await rec.release();
if (noLm) process.stdout.write(`without the LM at beam ${pick.beam}: word bonus ${noLm.wordBonus}, WER ${(100 * noLm.wer).toFixed(1)}%\n`);
const m = JSON.parse(fs.readFileSync(file, 'utf8'));
m.decoding = { beam: pick.beam, lmWeight: chosen.lmWeight, wordBonus: chosen.wordBonus, ...(noLm ? { noLmWordBonus: noLm.wordBonus } : {}), lexicon: chosen.lexicon, blankPenalty: chosen.blankPenalty };
save(m, {
  dev: process.argv.includes('--dev') ? arg('dev').split(',').map((f) => path.basename(f)).join(' + ') : 'tts-dev + kathleen-dev', greedyWer: res[0].wer, grid: grid.map((g, i) => ({ beam: BEAM, ...g, wer: res[i + 1].wer })), wider: tried.slice(3), refined: refined.map((q) => ({ beam: pick.beam, ...q })),
  blankPenalty: { tried: blankTried, refined: reRefined.map((q) => ({ beam: pick.beam, blankPenalty: bestBlank.blankPenalty, ...q })) },
  chosen: { beam: pick.beam, ...chosen, wer: pick.wer }, ...(noLm ? { noLm: { beam: pick.beam, tried: noLm.tried, chosen: noLm.wordBonus } } : {}),
});
