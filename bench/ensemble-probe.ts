/**
 * bench/ensemble-probe: would an ensemble of adapters beat one? Each test utterance is encoded once
 * (the frozen encoder is shared), each adapter's CTC posteriors are computed from that output and
 * averaged frame by frame (log-mean-exp), decoded once, and scored beside each adapter alone, under
 * one or more decoding settings. The adapters must share a method (they read the same encoder output).
 * The probe that led to `train --ensemble` (which trains its members on cross-validation folds instead
 * of separate runs); an ensemble of members from separate runs, each with its own dev split.
 * Usage: node dist/bench/ensemble-probe.js --data <dir|manifest> [--decoding '[{},{"lmWeight":0.5,"wordBonus":1}]'] ADAPTER_DIR...
 */
import { readDataset } from '../lib/data/manifest.js';
import { loadAudio } from '../lib/audio/index.js';
import { addCounts, rate, scoreUtterance, zeroCounts, type ErrorCounts } from '../lib/eval/wer.js';
import { loadRecognizer, type DecodeOptions } from '../lib/index.js';
import { adapterLogProbs } from '../lib/adapter/math.js';
import { loadAdapter } from '../lib/adapter/io.js';
import { machine, table } from './common.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const take = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv.splice(i, 2)[1];
  };
  const data = take('--data');
  const decodings = JSON.parse(take('--decoding') ?? '[{}]') as DecodeOptions[];
  if (!data || argv.length < 2) throw new Error('usage: ensemble-probe --data <dir|manifest> [--decoding JSON] ADAPTER_DIR ADAPTER_DIR...');
  const adapters = argv.map((dir) => loadAdapter(dir).weights); // each: one member, or a trained ensemble's
  if (new Set(adapters.map((ws) => ws[0].method)).size > 1) throw new Error('the adapters must share a method');
  // One recognizer (its encoder, dictionary and LM) decodes for all; the first adapter checks that they fit the model.
  const rec = await loadRecognizer({ adapter: argv[0] });
  const output = adapters[0][0].method === 'top' ? rec.encoder.manifest.trainableTop!.output : undefined;
  const V = rec.head.vocabSize;
  const names = [...argv.map((_, k) => `adapter ${k + 1}`), 'ensemble'];
  const totals = names.map(() => decodings.map((): ErrorCounts => zeroCounts()));
  const utts = readDataset(data).utterances;
  for (const u of utts) {
    const { frames, numFrames: T, frameShift } = await rec.encoder.encode(loadAudio(u.audio), output);
    const lps = adapters.map((ws) => adapterLogProbs(ws, frames, T));
    [...lps, adapterLogProbs(adapters.flat(), frames, T)].forEach((lp, a) => decodings.forEach((o, d) => {
      totals[a][d] = addCounts(totals[a][d], scoreUtterance(u.text, rec.decode(lp, T, V, frameShift, o).text).words);
    }));
  }
  const head = ['model', ...decodings.map((o) => `WER, ${rec.decodingName(o)}${Object.keys(o).length ? ` ${JSON.stringify(o)}` : ''}`)];
  process.stdout.write(`Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; ${utts.length} utterances of ${data}; adapters ${argv.join(', ')}.\n\n`);
  process.stdout.write(table(head, names.map((n, a) => [n, ...totals[a].map((c) => `${(100 * rate(c)).toFixed(1)}%`)])) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`ensemble-probe: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
