/** `adapt-asr export`: a model with its adapter as one ONNX graph and the files to decode it. */
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';

interface ExportArgs { accent?: string; adapter?: string; model?: string; modelsDir?: string; out: string; check: boolean }

/** The recording `export` checks an export on (bundled with the package). */
export const CHECK_AUDIO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'audio-fixtures', 'speech-en-us-16k.wav');
/** Largest |difference| of log-probabilities an export may show against the pipeline. */
export const EXPORT_TOLERANCE = 1e-4;

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Write a model and its adapter as one ONNX graph (features to CTC log-probabilities) with its tokens, lexicon, LM and export.json, for other runtimes and the browser.',
  builder: (y: Argv) => y
    .option('accent', { type: 'string', describe: 'Export the adapter trained for this accent, ./adapters/<accent>.' })
    .option('adapter', { type: 'string', describe: 'Export the adapter in this folder.' })
    .conflicts('accent', 'adapter')
    .option('model', { type: 'string', describe: 'The base model: a name or folder (default: the adapter\'s own base model, else base-en-real). Without --accent/--adapter the model is exported alone.' })
    .option('models-dir', { type: 'string', describe: 'Folder of your own models.' })
    .option('out', { type: 'string', demandOption: true, describe: 'The folder to write (created; an earlier export there is replaced).' })
    .option('check', { type: 'boolean', default: true, describe: 'Run the export and the pipeline on a bundled recording and compare their log-probabilities and text (--no-check skips it).' })
    .example('$0 export --accent scottish --out exports/scottish', 'One folder: model.onnx, export.json, tokens.txt, lexicon, LM.')
    .example('$0 transcribe meeting.wav --model exports/scottish', 'adapt-asr runs an export like any model.') as unknown as Argv<ExportArgs>,
  handler: async (argv: ArgumentsCamelCase<ExportArgs>) => {
    const adapter = argv.adapter ?? (argv.accent ? path.join('adapters', argv.accent) : undefined);
    if (argv.accent && !fs.existsSync(path.join('adapters', argv.accent, 'adapter.json'))) {
      throw new UsageError(`no adapter for accent '${argv.accent}' in ./adapters; train one with \`adapt-asr train --accent ${argv.accent}\` or name a folder with --adapter`);
    }
    const { exportModel } = await import('../export/export.js');
    const info = exportModel({ adapter, model: argv.model, modelsDir: argv.modelsDir, out: argv.out });
    const size = fs.statSync(path.join(argv.out, info.graph.file)).size;
    process.stdout.write(`exported ${info.model.name} ${info.model.modelVersion}${info.adapter ? ` with adapter '${info.adapter.accent}' (${info.adapter.method}${info.adapter.members > 1 ? `, ${info.adapter.members} members` : ''})` : ''} to ${argv.out}: ${info.graph.file} ${(size / 2 ** 20).toFixed(1)} MB, input ${info.graph.input.name} [${info.graph.input.dims.join(', ')}], output ${info.graph.output.name} [${info.graph.output.dims.join(', ')}]\n`);
    if (!argv.check) return;
    const { loadAudio } = await import('../audio/index.js');
    const { checkExport } = await import('../export/verify.js');
    const c = await checkExport(argv.out, loadAudio(CHECK_AUDIO), { model: argv.model, modelsDir: argv.modelsDir, adapter });
    const ok = c.maxAbsDiff <= EXPORT_TOLERANCE && c.pipelineText === c.exportText;
    process.stdout.write(`check on ${path.basename(CHECK_AUDIO)}: max |log-prob difference| ${c.maxAbsDiff.toExponential(1)} over ${c.frames} frames (limit ${EXPORT_TOLERANCE}), same text: ${c.pipelineText === c.exportText ? 'yes' : `no ("${c.pipelineText}" against "${c.exportText}")`}\n`);
    if (!ok) {
      process.stderr.write('adapt-asr: the export does not reproduce the pipeline; please report this with the model and adapter\n');
      process.exitCode = 1;
    }
  },
};
