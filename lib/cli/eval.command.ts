/** `adapt-asr eval`: WER and CER of a model (and adapter) on a dataset. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { recognizerOptions, warnIfRejected, withDecodeOptions, withModelOptions, type DecodeArgs, type ModelArgs } from './decode-options.js';

interface EvalArgs extends ModelArgs, DecodeArgs { data: string; json: boolean; limit?: number; verbose: boolean; compare: boolean }

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Measure word and character error rates on a dataset with transcripts.',
  builder: (y: Argv) => withDecodeOptions(withModelOptions(y))
    .option('data', { type: 'string', demandOption: true, describe: 'The test data: a folder of WAVs with transcripts.tsv (file<TAB>text[<TAB>speaker]) or a .jsonl manifest (audio_filepath, text, optional speaker).' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object with wer, cer, utterances, words, substitutions, deletions, insertions and more.' })
    .option('limit', { type: 'number', describe: 'Score only the first N utterances.' })
    .option('compare', { type: 'boolean', default: false, describe: 'With --accent or --adapter: score the base model and the adapted one on the same data, side by side, with the relative change.' })
    .check((argv) => {
      if (argv.compare && !argv.accent && !argv.adapter) throw new UsageError('--compare needs --accent or --adapter. Example usage: adapt-asr eval --data test/ --accent scottish --compare');
      return true;
    })
    .example('$0 eval --data audio-fixtures/accents/scottish/test', 'WER of the bundled model on the bundled Scottish test set.') as unknown as Argv<EvalArgs>,
  handler: async (argv: ArgumentsCamelCase<EvalArgs>) => {
    const { loadRecognizer } = await import('../pipeline/recognizer.js');
    const { evaluate } = await import('../pipeline/evaluate.js');
    const { progressBar } = await import('./progress.js');
    if (argv.compare) return compare(argv);
    const rec = await loadRecognizer(recognizerOptions(argv));
    warnIfRejected(rec);
    try {
      const bar = progressBar('eval');
      const r = await evaluate(rec, argv.data, { limit: argv.limit, onProgress: (i, n) => bar.update(i, n) });
      bar.stop();
      for (const f of r.failed.slice(0, 5)) process.stderr.write(`adapt-asr: skipped ${f.error}\n`);
      if (argv.json) {
        process.stdout.write(JSON.stringify({ ...r, rtf: r.seconds / Math.max(1e-9, r.audioSeconds) }, null, 2) + '\n');
      } else {
        const lines = [
          `${argv.data}: ${r.utterances} utterances, ${r.words} words, ${(r.audioSeconds / 60).toFixed(1)} min of audio`,
          `WER ${pct(r.wer)} (substitutions ${r.substitutions}, deletions ${r.deletions}, insertions ${r.insertions})   CER ${pct(r.cer)}`,
        ];
        if (r.perSpeaker) for (const [s, v] of Object.entries(r.perSpeaker)) lines.push(`  ${s}: WER ${pct(v.wer)}  CER ${pct(v.cer)}  (${v.utterances} utterances)`);
        if (argv.verbose) lines.push(`real-time factor ${(r.seconds / r.audioSeconds).toFixed(3)}`);
        process.stdout.write(lines.join('\n') + '\n');
      }
      if (r.failed.length) process.exitCode = 1;
    } finally {
      await rec.release();
    }
  },
};

async function compare(argv: EvalArgs): Promise<void> {
  const { loadRecognizer } = await import('../pipeline/recognizer.js');
  const { evaluate } = await import('../pipeline/evaluate.js');
  const opts = recognizerOptions(argv);
  const adapted = await loadRecognizer(opts);
  // the base is the model the adapter runs on (its own base model unless --model names one)
  const base = await loadRecognizer({ ...opts, model: opts.model ?? adapted.encoder.manifest.name, adapter: undefined });
  try {
    warnIfRejected(adapted);
    const b = await evaluate(base, argv.data, { limit: argv.limit });
    const a = await evaluate(adapted, argv.data, { limit: argv.limit });
    const rel = (x: number, y: number): number => (x > 0 ? (y - x) / x : 0);
    if (argv.json) {
      process.stdout.write(JSON.stringify({ base: b, adapted: a, relativeWerChange: rel(b.wer, a.wer), relativeCerChange: rel(b.cer, a.cer) }, null, 2) + '\n');
      return;
    }
    const sign = (x: number): string => `${x > 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
    const lines = [
      `${argv.data}: ${a.utterances} utterances, ${a.words} words`,
      `            WER       CER       S/D/I`,
      `base        ${pct(b.wer).padEnd(9)} ${pct(b.cer).padEnd(9)} ${b.substitutions}/${b.deletions}/${b.insertions}`,
      `adapted     ${pct(a.wer).padEnd(9)} ${pct(a.cer).padEnd(9)} ${a.substitutions}/${a.deletions}/${a.insertions}`,
      `change      ${sign(rel(b.wer, a.wer)).padEnd(9)} ${sign(rel(b.cer, a.cer)).padEnd(9)} (relative; negative is better)`,
    ];
    if (a.perSpeaker && b.perSpeaker) for (const s of Object.keys(a.perSpeaker)) lines.push(`  ${s}: WER ${pct(b.perSpeaker[s].wer)} -> ${pct(a.perSpeaker[s].wer)}`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await base.release();
    await adapted.release();
  }
}
