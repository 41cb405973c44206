/**
 * bench/decoding-probe: what each part of the beam search gives. Decodes manifests (one encoding per utterance,
 * shared by all settings) with the model's tuned decoding, then with one part off at a time: LM look-ahead, the
 * re-spelling of homophones over the sentence, the blank penalty; then all three off; each at the tuned beam and at
 * beam 16. Prints a markdown section (the `probe:decoding` section of BENCHMARKS.md).
 * Usage: node dist/bench/decoding-probe.js [--model DIR] MANIFEST... (e.g. WORK/manifests/tts-dev.jsonl WORK/manifests/kathleen-dev.jsonl)
 */
import path from 'node:path';
import { readDataset } from '../lib/data/manifest.js';
import { evaluateVariants } from '../lib/pipeline/evaluate.js';
import { loadRecognizer, type DecodeOptions } from '../lib/index.js';
import { machine, table } from './common.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const m = argv.indexOf('--model');
  const model = m >= 0 ? argv.splice(m, 2)[1] : 'base-en';
  const manifests = argv;
  if (!manifests.length) throw new Error('usage: decoding-probe [--model DIR] MANIFEST...');
  const utts = manifests.flatMap((f) => readDataset(f).utterances);
  const rec = await loadRecognizer({ model, threads: 1 });
  const tuned = rec.encoder.manifest.decoding ?? {};
  const penalty = tuned.blankPenalty ?? 0;
  const parts: [string, DecodeOptions][] = [
    ['as tuned', {}],
    ['no LM look-ahead', { lookAhead: false }],
    ['no re-spelling', { respell: false }],
    [`no blank penalty (tuned: ${penalty})`, { blankPenalty: 0 }],
    ['none of the three', { lookAhead: false, respell: false, blankPenalty: 0 }],
  ];
  const beams = [...new Set([rec.defaults.beam ?? 8, 16])];
  const variants = beams.flatMap((beam) => parts.map(([, o]) => ({ beam, ...o })));
  const res = await evaluateVariants(rec, utts, variants);
  await rec.release();
  const rows = variants.map((v, i) => [String(v.beam), parts[i % parts.length][0], `${(100 * res[i].wer).toFixed(2)}%`, `${(100 * res[i].cer).toFixed(2)}%`,
    (res[i].seconds / res[i].audioSeconds).toFixed(4)]);
  process.stdout.write([
    '## What each part of the beam search gives (`bench/decoding-probe`, a probe)', '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}. Command: \`node dist/bench/decoding-probe.js ${manifests.map((f) => `WORK/manifests/${path.basename(f)}`).join(' ')}\`. `
      + `base-en ${rec.encoder.manifest.modelVersion} (LM weight ${tuned.lmWeight}, word bonus ${tuned.wordBonus}, blank penalty ${penalty}, as tuned on these dev sets), `
      + `${utts.length} utterances; one part off at a time. RTF: one thread, encoding included, with other work on the machine's other core.`, '',
    table(['beam', 'decoding', 'WER', 'CER', 'RTF'], rows), '',
  ].join('\n'));
}

main().catch((e: unknown) => {
  process.stderr.write(`decoding-probe: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
