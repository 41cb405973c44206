/**
 * The command-line program: a yargs root that registers one module per command and maps every
 * error to an exit code (0 ok, 1 runtime, 2 usage) and one line on stderr.
 */
import yargs from 'yargs';
import { setAudioLimits } from '../audio/index.js';
import { describeError, UsageError } from '../errors.js';
import { batchCommand } from './batch.command.js';
import { cacheCommand } from './cache.command.js';
import { evalCommand } from './eval.command.js';
import { exportCommand } from './export.command.js';
import { featuresCommand } from './features.command.js';
import { infoCommand } from './info.command.js';
import { modelsCommand } from './models.command.js';
import { pronounceCommand } from './pronounce.command.js';
import { rankCommand } from './rank.command.js';
import { serveCommand } from './serve.command.js';
import { trainCommand } from './train.command.js';
import { transcribeCommand } from './transcribe.command.js';
import { workerCommand } from './worker.command.js';
import { toolkitVersion } from '../version.js';

export { toolkitVersion } from '../version.js';

/**
 * Run the CLI with `argv` (without node and script path). Resolves to the exit code; never calls
 * process.exit, so it can be tested in-process.
 */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    const width = Math.min(100, process.stdout.columns ?? 100);
    await yargs(argv)
      .scriptName('adapt-asr')
      .usage('$0 <command> [options]\n\nAdapt a speech recognizer to an accent from a few minutes of recordings.')
      .command(featuresCommand)
      .command(trainCommand)
      .command(transcribeCommand)
      .command(evalCommand)
      .command(modelsCommand)
      .command(rankCommand)
      .command(exportCommand)
      .command(serveCommand)
      .command(batchCommand)
      .command(workerCommand)
      .command(pronounceCommand)
      .command(infoCommand)
      .command(cacheCommand)
      .option('verbose', { type: 'boolean', default: false, describe: 'Print timings, and the stack trace of any error.' })
      .option('max-audio-seconds', { type: 'number', default: 4 * 3600, describe: 'Refuse audio files longer than this many seconds (protects memory; 1 hour of audio needs about 0.4 GB).' })
      .option('max-file-mb', { type: 'number', default: 4096, describe: 'Refuse input files larger than this many megabytes.' })
      .middleware((argv) => {
        const s = Number(argv.maxAudioSeconds), mb = Number(argv.maxFileMb);
        if (!(s > 0) || !(mb > 0)) throw new UsageError('--max-audio-seconds and --max-file-mb must be positive numbers');
        setAudioLimits({ maxDurationSec: s, maxBytes: Math.floor(mb * 2 ** 20) });
      }, true)
      .demandCommand(1, 'Name a command; run `adapt-asr --help` to see them.')
      .recommendCommands()
      .strict()
      .version('version', 'Show the version number and exit.', toolkitVersion())
      .help('help', 'Show this help and exit.')
      .alias('h', 'help')
      .wrap(width)
      .exitProcess(false)
      .fail((msg, err) => {
        if (err) throw err;
        // recommendCommands() only says "Did you mean x?"; say what was wrong first.
        if (/^Did you mean/.test(msg) && argv[0]) throw new UsageError(`Unknown command '${argv[0]}'. ${msg}`);
        throw new UsageError(msg.replace(/\s*\n\s*/g, ' ').trim());
      })
      .parseAsync();
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    const { exitCode, message } = describeError(err);
    process.stderr.write(`adapt-asr: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return exitCode;
  }
}
