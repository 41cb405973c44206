/**
 * bench/decode-speed: the beam search alone. Each set is encoded once; then its log-probabilities are
 * decoded with the model's default decoding three times, and the fastest pass counts. A sha256 of the
 * hypotheses shows whether two versions of the search give the very same texts.
 *   base-en:      the bundled Scottish test set (48 utterances), beam 64 + LM + dictionary;
 *   base-en-real: the first 60 utterances of VCTK p239 (../shared; skipped without it), beam 128 + LM + lexicon.
 * Results go to docs/decode-speed-<label>.json; the section shows every label found.
 * Usage: node dist/bench/decode-speed.js [--label after]   (run it on another commit's build for its row)
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAudio } from '../lib/audio/index.js';
import { readDataset } from '../lib/data/manifest.js';
import { loadRecognizer } from '../lib/pipeline/recognizer.js';
import { machine, table } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SETS = [
  { model: 'base-en', data: path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test'), name: 'Scottish test', limit: 48 },
  { model: 'base-en-real', data: path.resolve(ROOT, '..', 'shared', 'corpora', 'real', 'en-GB_vctk_p239'), name: 'VCTK p239, first 60', limit: 60 },
];

interface Row { model: string; set: string; decoding: string; utterances: number; audioSec: number; decodeMs: number; sha256: string }
interface Results { label: string; date: string; machine: string; commit: string; rows: Row[] }

export async function benchDecodeSpeed(label = 'after'): Promise<string> {
  const rows: Row[] = [];
  for (const s of SETS) {
    if (!fs.existsSync(s.data)) continue;
    const rec = await loadRecognizer({ model: s.model, threads: 2 });
    try {
      const lps = [];
      for (const u of readDataset(s.data).utterances.slice(0, s.limit)) lps.push(await rec.logProbs(loadAudio(u.audio)));
      rec.decode(lps[0].logp, lps[0].T, lps[0].V, lps[0].frameShift, {}); // builds the lexicon and look-ahead once
      let best = Infinity, texts: string[] = [];
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        texts = lps.map((lp) => rec.decode(lp.logp, lp.T, lp.V, lp.frameShift, {}).text);
        best = Math.min(best, performance.now() - t0);
      }
      rows.push({ model: s.model, set: s.name, decoding: rec.decodingName(), utterances: lps.length, audioSec: lps.reduce((a, lp) => a + lp.T * lp.frameShift, 0), decodeMs: best,
        sha256: crypto.createHash('sha256').update(texts.join('\n')).digest('hex') });
    } finally {
      await rec.release();
    }
  }
  const results: Results = { label, date: new Date().toISOString().slice(0, 10), machine: machine(), commit: gitCommit() ?? 'unknown', rows };
  fs.writeFileSync(path.join(ROOT, 'docs', `decode-speed-${label}.json`), JSON.stringify(results, null, 2) + '\n');
  return decodeSpeedSection();
}

function gitCommit(): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The BENCHMARKS.md section from every docs/decode-speed-*.json ("before" first). */
export function decodeSpeedSection(): string {
  const files = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => /^decode-speed-.+\.json$/.test(f)).sort((a, b) => (a.includes('-before') ? -1 : b.includes('-before') ? 1 : a.localeCompare(b)));
  const all = files.map((f) => JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', f), 'utf8')) as Results);
  const rows = all.flatMap((r) => r.rows.map((x) => [r.label, `${r.commit}, ${r.date}`, x.model, `${x.set} (${x.utterances} utt., ${x.audioSec.toFixed(0)} s)`, x.decoding, x.decodeMs.toFixed(0), (x.decodeMs / 1000 / x.audioSec).toFixed(4), x.sha256.slice(0, 12)]));
  return `## Beam search alone (\`bench/decode-speed\`)\n\nThe model's default decoding of log-probabilities computed beforehand, on one core; the fastest of 3 passes. The last column is a sha256 of the hypotheses: equal digests, equal texts. Each row ran on ${all[0]?.machine ?? 'this machine'}, one label after the other in the same session. Command: \`npm run build && node dist/bench/decode-speed.js --label LABEL\` (a label's row comes from that commit's build).\n\n`
    + table(['label', 'commit, date', 'model', 'set', 'decoding', 'decode ms', 'time per second of audio', 'texts sha256'], rows) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const i = process.argv.indexOf('--label');
  process.stdout.write(await benchDecodeSpeed(i >= 0 ? process.argv[i + 1] : 'after') + '\n');
}
