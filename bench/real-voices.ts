/**
 * bench/real-voices: how each model does on real speakers it never heard, side by side with
 * PocketSphinx's stock US English model and its own LM on the same files, in the same run.
 *   - en-GB_vctk_p239: a real British speaker (VCTK p239, 498 utterances): evaluation only;
 *   - zh-L1_speechocean762_adults, the 16 test-split speakers (speakers.tsv column 5).
 * Each model decodes with its default decoding (what `adapt-asr eval` gives). Writes
 * docs/real-voices.json, which the README's table and the model cards quote.
 * Needs ../shared/corpora/real; PocketSphinx (apt-get install pocketsphinx pocketsphinx-en-us sphinxbase-utils) for the peer.
 * Usage: node dist/bench/real-voices.js [--models base-en,...] [--shared ../shared] [--quick]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset, type Utterance } from '../lib/data/manifest.js';
import { evaluate, type EvalResult } from '../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../lib/pipeline/recognizer.js';
import { machine, table } from './common.js';
import { pocketsphinxStock } from './pocketsphinx.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS = path.join(ROOT, 'docs', 'real-voices.json');

/** The real test sets: name, description, utterances (undefined when the corpus is absent). */
export function realSets(shared: string, quick = false): { name: string; about: string; utts: Utterance[] }[] {
  const real = path.join(shared, 'corpora', 'real');
  const out: { name: string; about: string; utts: Utterance[] }[] = [];
  const p239 = path.join(real, 'en-GB_vctk_p239');
  if (fs.existsSync(path.join(p239, 'transcripts.tsv'))) {
    const utts = readDataset(p239).utterances;
    out.push({ name: 'p239', about: 'VCTK p239, British English, studio (never trained on)', utts: quick ? utts.filter((_, i) => i % 5 === 0) : utts });
  }
  const utts = zhL1Split(shared, 'test');
  if (utts) out.push({ name: 'zh-L1 test', about: 'speechocean762, 16 Mandarin-L1 test-split speakers', utts: quick ? utts.filter((_, i) => i % 5 === 0) : utts });
  return out;
}

/** The zh-L1 utterances of one split of speakers (speakers.tsv column 5), with their speakers; undefined without the corpus. */
export function zhL1Split(shared: string, which: 'train' | 'test'): Utterance[] | undefined {
  const zh = path.join(shared, 'corpora', 'real', 'zh-L1_speechocean762_adults');
  if (!fs.existsSync(path.join(zh, 'speakers.tsv'))) return undefined;
  const split = new Map(fs.readFileSync(path.join(zh, 'speakers.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')).map((c) => [c[0], { speaker: c[1], split: c[4] }]));
  return readDataset(zh).utterances.filter((u) => split.get(path.basename(u.audio))?.split === which).map((u) => ({ ...u, speaker: split.get(path.basename(u.audio))!.speaker }));
}

interface Row { set: string; about: string; utterances: number; audioMinutes: number; system: string; decoding: string; wer: number | null; cer: number | null; rtf: number | null; note?: string }
interface Results { date: string; machine: string; command: string; rows: Row[] }

export async function benchRealVoices(quick = false, models = ['base-en-real', 'base-en'], shared = path.join(ROOT, '..', 'shared')): Promise<string> {
  const sets = realSets(shared, quick);
  if (sets.length === 0) return `## Real voices the models never heard (\`bench/real-voices\`)\n\nSkipped: ${path.join(shared, 'corpora', 'real')} is absent.\n`;
  const rows: Row[] = [];
  for (const model of models) {
    const rec = await loadRecognizer({ model, threads: 1 });
    try {
      for (const s of sets) {
        const r: EvalResult = await evaluate(rec, s.utts);
        rows.push({ set: s.name, about: s.about, utterances: r.utterances, audioMinutes: r.audioSeconds / 60, system: `adapt-asr ${model} ${rec.encoder.manifest.modelVersion}`, decoding: rec.decodingName(), wer: r.wer, cer: r.cer, rtf: r.seconds / r.audioSeconds });
        process.stderr.write(`${model} ${s.name}: WER ${(100 * r.wer).toFixed(1)}%\n`);
      }
    } finally {
      await rec.release();
    }
  }
  for (const s of sets) {
    const ps = await pocketsphinxStock(s.utts);
    const base = { set: s.name, about: s.about, utterances: s.utts.length, system: 'PocketSphinx 5prealpha, en-us PTM', decoding: 'its own LM (en-us.lm.bin) and cmudict' };
    if ('missing' in ps) rows.push({ ...base, audioMinutes: 0, wer: null, cer: null, rtf: null, note: `not measured: ${ps.missing} missing` });
    else {
      rows.push({ ...base, audioMinutes: ps.audioSeconds / 60, wer: ps.wer, cer: ps.cer, rtf: (ps.jobs * ps.seconds) / ps.audioSeconds });
      process.stderr.write(`pocketsphinx ${s.name}: WER ${(100 * ps.wer).toFixed(1)}%\n`);
    }
  }
  const results: Results = { date: new Date().toISOString().slice(0, 10), machine: machine(), command: `node dist/bench/real-voices.js${quick ? ' --quick' : ''} --models ${models.join(',')}`, rows };
  if (!quick) {
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(`${RESULTS}.tmp`, JSON.stringify(results, null, 1) + '\n');
    fs.renameSync(`${RESULTS}.tmp`, RESULTS);
  }
  return report(results);
}

/** The BENCHMARKS.md section for saved results. */
export function report(r: Results): string {
  const p = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  return [
    '## Real voices the models never heard (`bench/real-voices`)', '',
    `Measured ${r.date} on ${r.machine}. Command: \`npm run build && ${r.command}\`. Each system decodes as a user gets it by default; `
      + 'PocketSphinx with its stock en-us model, LM and dictionary, on the same files in the same run, scored by our WER code. '
      + 'Real-time factor per core (PocketSphinx ran in parallel processes: wall time x processes / audio).', '',
    table(['set', 'utterances', 'minutes', 'system', 'decoding', 'WER', 'CER', 'RTF'],
      r.rows.map((x) => [x.set, x.utterances, x.audioMinutes.toFixed(1), x.system, x.decoding, x.note ?? p(x.wer), p(x.cer), x.rtf === null ? '-' : x.rtf.toFixed(3)])), '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (name: string): string | undefined => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
  if (process.argv.includes('--report')) process.stdout.write(report(JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as Results) + '\n');
  else process.stdout.write(await benchRealVoices(process.argv.includes('--quick'), arg('models')?.split(',') ?? ['base-en-real', 'base-en'], arg('shared')) + '\n');
}
