/** `adapt-asr models list|inspect|import`. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { PRESET_NAMES } from '../features/presets.js';

const withModelsDir = <T>(y: Argv<T>) => y.option('models-dir', {
  type: 'string',
  describe: 'Folder of your own models. Default: $ADAPT_ASR_MODELS_DIR, else ~/.local/share/adapt-asr/models.',
});

interface ListArgs { modelsDir?: string; json: boolean }
interface InspectArgs { target: string; json: boolean }
interface ImportArgs { file: string; kind: string; name: string; preset?: string; modelsDir?: string; force: boolean; normalize: string }

const list: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'List the bundled models and those in your models folder.',
  builder: (y) => withModelsDir(y).option('json', { type: 'boolean', default: false, describe: 'Print one JSON array instead of a table.' }) as unknown as Argv<ListArgs>,
  handler: async (argv: ArgumentsCamelCase<ListArgs>) => {
    const { listModels, userModelsDir } = await import('../encoder/index.js');
    const models = listModels(argv.modelsDir ?? userModelsDir());
    if (argv.json) {
      process.stdout.write(JSON.stringify(models.map((m) => ({ name: m.name, dir: m.dir, source: m.source, kind: m.manifest?.encoder.kind, error: m.error })), null, 2) + '\n');
      return;
    }
    if (models.length === 0) {
      process.stdout.write(`no models found (bundled folder empty; none in ${argv.modelsDir ?? userModelsDir()})\n`);
      return;
    }
    for (const m of models) {
      if (!m.manifest) { process.stdout.write(`${m.name}  (${m.source})  INVALID: ${m.error}\n`); continue; }
      const e = m.manifest.encoder;
      const fe = m.manifest.frontEnd.type === 'features' ? m.manifest.frontEnd.preset : 'waveform';
      process.stdout.write(`${m.name}  ${e.kind}  ${fe}  d=${e.hiddenSize}  ${e.frameShift * 1000} ms  ${m.manifest.ctcHead ? (m.manifest.ctcHead.pronunciations ? 'ctc-head(phones)' : 'ctc-head') : 'no-head'}${m.manifest.trainableTop ? `  trainable-top(${m.manifest.trainableTop.blocks.length})` : ''}  (${m.source}: ${m.dir})\n`);
    }
  },
};

const inspect: CommandModule<object, InspectArgs> = {
  command: 'inspect <target>',
  describe: 'Show the inputs, outputs, shapes, parameter count and opset of a model folder or an ONNX file, and which encoder kinds it fits.',
  builder: (y) => y
    .positional('target', { type: 'string', demandOption: true, describe: 'A model folder (with model.json) or an .onnx file.' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON.' }) as unknown as Argv<InspectArgs>,
  handler: async (argv: ArgumentsCamelCase<InspectArgs>) => {
    const { inspectModel, formatInspect } = await import('../encoder/index.js');
    const r = await inspectModel(argv.target);
    process.stdout.write((argv.json ? JSON.stringify(r, null, 2) : formatInspect(r)) + '\n');
  },
};

const importCmd: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe: 'Check that an ONNX encoder fits a kind and add it to your models folder as a model directory.',
  builder: (y) => withModelsDir(y
    .positional('file', { type: 'string', demandOption: true, describe: 'The .onnx file, e.g. encoder_model.onnx from a Hugging Face Optimum Whisper export.' })
    .option('kind', { type: 'string', choices: ['features', 'whisper', 'waveform'], demandOption: true, describe: 'Encoder convention: whisper (input_features [batch, n_mels, 3000] -> last_hidden_state), waveform (wav2vec2/HuBERT: input_values [batch, samples]), or features (log-mel frames in, hidden frames out).' })
    .option('name', { type: 'string', demandOption: true, describe: 'Name of the new model (its folder name).' })
    .option('preset', { type: 'string', choices: PRESET_NAMES, describe: 'Feature preset the encoder was trained on (features kind; whisper takes it from the model).' })
    .option('normalize', { type: 'string', choices: ['none', 'utterance'], default: 'none', describe: 'Feature normalisation before a features encoder: none, or per-utterance mean and variance.' })
    .option('force', { type: 'boolean', default: false, describe: 'Replace an existing model of the same name.' })
    .example('$0 models import encoder_model.onnx --kind whisper --name whisper-tiny', 'Add a Whisper encoder exported by Optimum.')) as unknown as Argv<ImportArgs>,
  handler: async (argv: ArgumentsCamelCase<ImportArgs>) => {
    const { importModel, userModelsDir } = await import('../encoder/index.js');
    const md = await importModel(argv.file, {
      kind: argv.kind as 'features', name: argv.name, preset: argv.preset as never, modelsDir: argv.modelsDir ?? userModelsDir(),
      force: argv.force, normalize: argv.normalize as 'none',
    });
    const e = md.manifest.encoder;
    process.stdout.write(`imported ${md.manifest.name} into ${md.dir}: ${e.kind} encoder, ${e.hiddenSize} per frame every ${e.frameShift * 1000} ms\n`);
  },
};

export const modelsCommand: CommandModule = {
  command: 'models <command>',
  describe: 'List, inspect and import pretrained encoders.',
  builder: (y) => y.command(list).command(inspect).command(importCmd).demandCommand(1, 'Name a models command: list, inspect or import.'),
  handler: () => undefined,
};
