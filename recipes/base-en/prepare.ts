/**
 * Stage 1 of the base-en recipe: decide, deterministically, every utterance of the corpus.
 * Writes $WORK/jobs.jsonl (one TTS or Kathleen job per line, with the normalised label) and
 * $WORK/splits.json (which sentences went where), and the sentence lists for the bundled accent data.
 *
 * Held out entirely: the Scottish voices (flite awb, espeak-ng en-gb-scotland; the adaptation target),
 * zh-L1_speechocean762 (the real-accent target), and the CMU ARCTIC prompts from synthetic speech
 * (Kathleen reads them; her test prompts are never trained on).
 * Usage: node dist/recipes/base-en/prepare.js --work DIR [--shared ../shared] [--train-utts 20000]
 */
import fs from 'node:fs';
import path from 'node:path';
import { normalizeText } from '../../lib/text/normalize.js';
import { kathleenPrompts } from '../kathleen.js';
import { rng, shuffled } from '../../lib/util/random.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const WORK = path.resolve(arg('work', path.join(process.env.HOME ?? '.', 'adapt-asr-work', 'base-en')));
const SHARED = path.resolve(arg('shared', '../shared'));
const TRAIN_UTTS = Number(arg('train-utts', '20000'));

function shuffle<T>(xs: T[], r: () => number): T[] {
  return shuffled(xs, r);
}
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)];

// Training voices. espeak-ng English accents x voice variants; flite and festival voices.
const ESPEAK_ACCENTS = ['en-us', 'en-gb', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc'];
const ESPEAK_VARIANTS = ['', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5', 'klatt', 'klatt2', 'klatt3',
  'klatt4', 'Alex', 'Andy', 'Annie', 'Michael', 'Linda', 'Steph', 'Zac', 'Edward', 'david', 'Mike', 'Robert', 'anika'];
const FLITE_VOICES = ['kal', 'kal16', 'rms', 'slt'];
const FESTIVAL_VOICES = ['kal_diphone', 'ked_diphone'];
export const HELD_OUT_VOICES = { flite: ['awb', 'awb_time'], espeak: ['en-gb-scotland'] };

interface Job {
  id: string;
  split: 'train' | 'dev' | 'test';
  source: 'tts' | 'kathleen';
  engine?: 'espeak' | 'flite' | 'festival';
  voice?: string;
  /** espeak words per minute, or flite/festival duration stretch. */
  rate?: number;
  pitch?: number;
  text: string;
  label: string;
  speaker: string;
  accent: string;
  /** Kathleen: source file and sox speed factor. */
  file?: string;
  speed?: number;
  gainDb: number;
  noise?: { type: 'white' | 'pink' | 'brown' | 'hum'; snrDb: number };
}

function ttsJob(id: string, split: Job['split'], text: string, r: () => number): Job {
  const u = r();
  const base = { id, split, source: 'tts' as const, text, label: normalizeText(text), gainDb: -12 + 15 * r() };
  let job: Job;
  if (u < 0.7) {
    const accent = pick(ESPEAK_ACCENTS, r), variant = pick(ESPEAK_VARIANTS, r);
    job = { ...base, engine: 'espeak', voice: variant ? `${accent}+${variant}` : accent, rate: Math.round(130 + 70 * r()),
      pitch: Math.round(25 + 50 * r()), speaker: `espeak:${accent}+${variant || 'default'}`, accent };
  } else if (u < 0.92) {
    const voice = pick(FLITE_VOICES, r);
    job = { ...base, engine: 'flite', voice, rate: 0.8 + 0.45 * r(), speaker: `flite:${voice}`, accent: voice === 'rms' || voice === 'slt' || voice.startsWith('kal') ? 'en-us' : 'en' };
  } else {
    const voice = pick(FESTIVAL_VOICES, r);
    job = { ...base, engine: 'festival', voice, rate: 0.85 + 0.35 * r(), speaker: `festival:${voice}`, accent: 'en-us' };
  }
  if (r() < 0.4) job.noise = { type: pick(['white', 'pink', 'brown', 'hum'] as const, r), snrDb: 5 + 25 * r() };
  return job;
}

function main(): void {
  const r = rng(20261129);
  const textDir = path.join(SHARED, 'corpora', 'text');
  const arctic = new Set(fs.readFileSync(path.join(textDir, 'by-source', 'cmu_arctic.txt'), 'utf8').split('\n').map((s) => normalizeText(s)).filter(Boolean));
  const all = fs.readFileSync(path.join(textDir, 'sentences.txt'), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  const pool = shuffle(all.filter((s) => !arctic.has(normalizeText(s))), r);
  // Reserved sentences: bundled accent data (never synthesised for pretraining), TTS dev and test.
  const accent = pool.slice(0, 400), dev = pool.slice(400, 600), test = pool.slice(600, 800), train = pool.slice(800);
  const jobs: Job[] = [];
  dev.forEach((s, i) => jobs.push(ttsJob(`tts-dev-${String(i).padStart(5, '0')}`, 'dev', s, r)));
  test.forEach((s, i) => jobs.push(ttsJob(`tts-test-${String(i).padStart(5, '0')}`, 'test', s, r)));
  for (let i = 0; i < TRAIN_UTTS; i++) jobs.push(ttsJob(`tts-train-${String(i).padStart(6, '0')}`, 'train', train[i % train.length], r));

  // Kathleen: every 8th prompt (sorted by id) is test, every 8th offset by 4 is dev, the rest train
  // with speed-perturbed copies (0.9, 1.1) and some noise.
  const { dir: kDir, prompts } = kathleenPrompts(SHARED);
  const kSplit: Record<string, string[]> = { train: [], dev: [], test: [] };
  prompts.forEach(({ file, text, split }) => {
    kSplit[split].push(file);
    const base = { source: 'kathleen' as const, text, label: normalizeText(text), speaker: 'kathleen', accent: 'en-us', file: path.join(kDir, file) };
    const stem = file.replace(/\.wav$/, '');
    if (split !== 'train') {
      jobs.push({ ...base, id: `kathleen-${split}-${stem}`, split, speed: 1, gainDb: 0 });
      return;
    }
    for (const speed of [1, 0.9, 1.1]) {
      const job: Job = { ...base, id: `kathleen-train-${stem}-sp${speed}`, split, speed, gainDb: -6 + 8 * r() };
      if (r() < 0.4) job.noise = { type: pick(['white', 'pink', 'brown', 'hum'] as const, r), snrDb: 10 + 20 * r() };
      jobs.push(job);
    }
  });

  fs.mkdirSync(WORK, { recursive: true });
  fs.writeFileSync(path.join(WORK, 'jobs.jsonl'), jobs.map((j) => JSON.stringify(j)).join('\n') + '\n');
  fs.writeFileSync(path.join(WORK, 'splits.json'), JSON.stringify({ accentSentences: accent, ttsDev: dev, ttsTest: test, kathleen: kSplit, excluded: { cmuArcticSentences: arctic.size }, heldOutVoices: HELD_OUT_VOICES }, null, 1));
  const counts: Record<string, number> = {};
  for (const j of jobs) counts[`${j.source}/${j.split}`] = (counts[`${j.source}/${j.split}`] ?? 0) + 1;
  process.stdout.write(`wrote ${jobs.length} jobs to ${WORK}/jobs.jsonl: ${JSON.stringify(counts)}\n`);
}

main();
