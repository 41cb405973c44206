/** `adapt-asr rank`: which installed model suits your recordings (lib/train/rank.ts). */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface RankArgs { data: string; models?: string; modelsDir?: string; minutes: number; probe: boolean; json: boolean; seed: number; threads?: number }

const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);

export const rankCommand: CommandModule<object, RankArgs> = {
  command: 'rank',
  describe: 'Rank the installed models on a sample of your recordings: WER, CER, speed, size, and what a quick adapter gains; then recommend one.',
  builder: (y) => y
    .option('data', { type: 'string', demandOption: true, describe: 'Your recordings: a folder with transcripts.tsv or a .jsonl manifest.' })
    .option('models', { type: 'string', describe: 'Comma-separated model names or folders (default: every installed model).' })
    .option('models-dir', { type: 'string', describe: 'Folder of your own models. Default: $ADAPT_ASR_MODELS_DIR, else ~/.local/share/adapt-asr/models.' })
    .option('minutes', { type: 'number', default: 5, describe: 'Minutes of the data to sample; bounds the work.' })
    .option('probe', { type: 'boolean', default: true, describe: 'Train a quick adapter per model to estimate the gain (--no-probe: score only).' })
    .option('seed', { type: 'number', default: 1, describe: 'Seed of the sample and the probe.' })
    .option('threads', { type: 'number', describe: 'ONNX Runtime threads (default: all cores).' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON.' })
    .example('$0 rank --data audio-fixtures/accents/scottish/test --minutes 2', 'Which model suits these recordings?') as unknown as Argv<RankArgs>,
  handler: async (argv: ArgumentsCamelCase<RankArgs>) => {
    const { rankModels } = await import('../train/rank.js');
    const r = await rankModels({
      data: argv.data, models: argv.models?.split(',').map((s) => s.trim()).filter(Boolean), modelsDir: argv.modelsDir, minutes: argv.minutes,
      probe: argv.probe, seed: argv.seed, threads: argv.threads, onLog: (line) => process.stderr.write(`${line}\n`),
    });
    if (argv.json) { process.stdout.write(JSON.stringify(r, null, 2) + '\n'); return; }
    const lines = [`rank on ${r.sample.utterances} utterances (${r.sample.minutes.toFixed(1)} min):`, '',
      '  #  model                 WER     CER     RTF     size MB  quick adapter (dev third)              expected WER'];
    r.rows.forEach((x, i) => {
      const probe = x.probe ? `${pct(x.probe.devBaseWer)} -> ${pct(x.probe.devAdaptedWer)}, ${x.probe.accepted ? 'accepted' : 'not accepted'}` : '-';
      lines.push(x.usable
        ? `  ${String(i + 1).padStart(1)}  ${x.model.padEnd(20)}  ${pct(x.wer).padEnd(6)}  ${pct(x.cer).padEnd(6)}  ${(x.rtf ?? 0).toFixed(3).padEnd(6)}  ${x.sizeMB.toFixed(1).padStart(7)}  ${probe.padEnd(38)} ${pct(x.expectedWer)}${x.why ? `  (${x.why})` : ''}`
        : `  -  ${x.model.padEnd(20)}  cannot run: ${x.why}`);
    });
    lines.push('', r.recommendation ? `recommended: ${r.recommendation.model}: ${r.recommendation.reason}` : 'no model can transcribe this data yet');
    process.stdout.write(lines.join('\n') + '\n');
  },
};
