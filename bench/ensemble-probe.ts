/**
 * bench/ensemble-probe: would an ensemble of adapters beat one? Each adapter's CTC posteriors for a
 * test utterance are averaged frame by frame (log-mean-exp; the encoder output is the same for all),
 * decoded once, and scored beside each adapter alone, under one or more decoding settings.
 * A probe for deciding what to build, not a toolkit feature.
 * Usage: node dist/bench/ensemble-probe.js --data <dir|manifest> [--decoding '[{},{"lmWeight":0.5,"wordBonus":1}]'] ADAPTER_DIR...
 */
import { readDataset } from '../lib/data/manifest.js';
import { loadAudio } from '../lib/audio/index.js';
import { addCounts, rate, scoreUtterance, zeroCounts, type ErrorCounts } from '../lib/eval/wer.js';
import { loadRecognizer, type DecodeOptions } from '../lib/index.js';
import { machine, table } from './common.js';

/** Frame-wise log of the mean of exp(logp) over members, into a new array. */
export function logMeanExp(members: Float32Array[]): Float32Array {
  const n = members[0].length, out = new Float32Array(n), k = members.length;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (const l of members) if (l[i] > m) m = l[i];
    let s = 0;
    for (const l of members) s += Math.exp(l[i] - m);
    out[i] = m + Math.log(s / k);
  }
  return out;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const take = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv.splice(i, 2)[1];
  };
  const data = take('--data');
  const decodings = JSON.parse(take('--decoding') ?? '[{}]') as DecodeOptions[];
  if (!data || argv.length < 2) throw new Error('usage: ensemble-probe --data <dir|manifest> [--decoding JSON] ADAPTER_DIR ADAPTER_DIR...');
  const recs = await Promise.all(argv.map((adapter) => loadRecognizer({ adapter })));
  const names = [...argv.map((_, k) => `adapter ${k + 1}`), 'ensemble'];
  const totals = names.map(() => decodings.map((): ErrorCounts => zeroCounts()));
  const utts = readDataset(data).utterances;
  for (const u of utts) {
    const audio = loadAudio(u.audio);
    const lps = [];
    for (const r of recs) lps.push(await r.logProbs(audio));
    const { T, V, frameShift } = lps[0];
    const sets = [...lps.map((l) => l.logp), logMeanExp(lps.map((l) => l.logp))];
    sets.forEach((lp, a) => decodings.forEach((o, d) => {
      totals[a][d] = addCounts(totals[a][d], scoreUtterance(u.text, recs[0].decode(lp, T, V, frameShift, o).text).words);
    }));
  }
  const head = ['model', ...decodings.map((o) => `WER, ${recs[0].decodingName(o)}${Object.keys(o).length ? ` ${JSON.stringify(o)}` : ''}`)];
  process.stdout.write(`Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; ${utts.length} utterances of ${data}; adapters ${argv.join(', ')}.\n\n`);
  process.stdout.write(table(head, names.map((n, a) => [n, ...totals[a].map((c) => `${(100 * rate(c)).toFixed(1)}%`)])) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`ensemble-probe: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
