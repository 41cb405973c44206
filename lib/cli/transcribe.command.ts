/** `adapt-asr transcribe`: WAV files or folders to text, JSON with word times, or captions. */
import fs from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { wavFilesIn } from '../data/manifest.js';
import { InputError, UsageError } from '../errors.js';
import { recognizerOptions, warnIfRejected, withDecodeOptions, withModelOptions, type DecodeArgs, type ModelArgs } from './decode-options.js';

interface TranscribeArgs extends ModelArgs, DecodeArgs { inputs: string[]; format: string; out?: string; verbose: boolean }

/** Expand folders into their .wav files (sorted); keep files as given. */
export function expandInputs(inputs: string[]): string[] {
  const out: string[] = [];
  for (const p of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      out.push(p); // reported as missing when transcribed
      continue;
    }
    if (st.isDirectory()) {
      const wavs = wavFilesIn(p);
      if (wavs.length === 0) throw new InputError('folder has no .wav files', p);
      out.push(...wavs);
    } else {
      out.push(p);
    }
  }
  return out;
}

const EXT: Record<string, string> = { text: 'txt', json: 'json', srt: 'srt', vtt: 'vtt' };

export const transcribeCommand: CommandModule<object, TranscribeArgs> = {
  command: 'transcribe <inputs..>',
  describe: 'Transcribe WAV files (or every WAV in a folder) to text, JSON with word times and confidences, or SRT/WebVTT captions.',
  builder: (y: Argv) => withDecodeOptions(withModelOptions(y))
    .positional('inputs', { type: 'string', array: true, describe: 'WAV files and/or folders of WAV files.' })
    .option('format', { type: 'string', choices: ['text', 'json', 'srt', 'vtt'], default: 'text', describe: 'Output format: plain text, JSON (text plus words with start, end and confidence), or SRT/WebVTT captions.' })
    .option('out', { type: 'string', describe: 'Write one file per input into this folder (<name>.txt/.json/.srt/.vtt) instead of printing to standard output.' })
    .example('$0 transcribe meeting.wav --format srt --out captions/', 'Captions for a recording.')
    .example('$0 transcribe recordings/ --format json', 'Every WAV in a folder, as one JSON array.') as unknown as Argv<TranscribeArgs>,
  handler: async (argv: ArgumentsCamelCase<TranscribeArgs>) => {
    const files = expandInputs(argv.inputs);
    if (argv.out !== undefined) {
      if (fs.existsSync(argv.out) && !fs.statSync(argv.out).isDirectory()) throw new UsageError(`--out must be a folder, but ${argv.out} is a file`);
      fs.mkdirSync(argv.out, { recursive: true });
    }
    const { loadRecognizer } = await import('../pipeline/recognizer.js');
    const { formatTranscript } = await import('../pipeline/captions.js');
    const { writeFileAtomic } = await import('../io/atomic.js');
    const { describeError } = await import('../errors.js');
    const { progressBar } = await import('./progress.js');
    const rec = await loadRecognizer(recognizerOptions(argv));
    warnIfRejected(rec);
    const format = argv.format as 'text';
    const several = files.length > 1;
    const collected: object[] = [];
    let failed = 0;
    const bar = several ? progressBar('transcribe') : { update: () => undefined, stop: () => undefined };
    try {
      for (const [i, file] of files.entries()) {
        try {
          const t0 = performance.now();
          const t = await rec.transcribe(file);
          if (argv.verbose) process.stderr.write(`${file}: ${t.duration.toFixed(2)} s, RTF ${((performance.now() - t0) / 1000 / t.duration).toFixed(3)}\n`);
          if (argv.out !== undefined) {
            const name = path.basename(file).replace(/\.[^.]+$/, '');
            writeFileAtomic(path.join(argv.out, `${name}.${EXT[format]}`), Buffer.from(formatTranscript(t, format, file)));
          } else if (several) {
            collected.push({ file, ...t });
          } else {
            process.stdout.write(formatTranscript(t, format, file));
          }
        } catch (err) {
          failed++;
          process.stderr.write(`adapt-asr: skipped ${describeError(err).message}\n`);
        }
        bar.update(i + 1, files.length);
      }
    } finally {
      bar.stop();
      await rec.release();
    }
    if (argv.out === undefined && several) process.stdout.write(JSON.stringify(collected, null, 2) + '\n');
    if (failed) {
      process.stderr.write(`adapt-asr: ${failed} of ${files.length} files failed\n`);
      process.exitCode = 1;
    }
  },
};
