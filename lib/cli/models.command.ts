/** `adapt-asr models list|inspect|import|pull`. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { PRESET_NAMES } from '../features/presets.js';

const withModelsDir = <T>(y: Argv<T>) => y.option('models-dir', {
  type: 'string',
  describe: 'Folder of your own models. Default: $ADAPT_ASR_MODELS_DIR, else ~/.local/share/adapt-asr/models.',
});

interface ListArgs { modelsDir?: string; json: boolean }
interface InspectArgs { target: string; json: boolean }
interface PullArgs { repo: string; file?: string; dtype?: string; name?: string; modelsDir?: string; force: boolean }
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

const pull: CommandModule<object, PullArgs> = {
  command: 'pull <repo>',
  describe: 'Download a model from the Hugging Face Hub (owner/name[@revision]) into your models folder: CTC models (wav2vec2, HuBERT, WavLM, Data2Vec-audio) split into encoder and CTC head, Whisper encoders, or adapt-asr model folders. Honours HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE; resumes interrupted downloads; caches in $HF_HUB_CACHE (default ~/.cache/huggingface/hub).',
  builder: (y) => withModelsDir(y
    .positional('repo', { type: 'string', demandOption: true, describe: 'The Hub repo, e.g. Xenova/wav2vec2-base-960h, optionally @revision (a branch, tag or commit).' })
    .option('file', { type: 'string', describe: 'The ONNX file in the repo to use, e.g. onnx/model.onnx (default: chosen by --dtype).' })
    .option('dtype', { type: 'string', choices: ['fp32', 'fp16', 'q8', 'q4'], describe: 'Which ONNX variant to pull (default: fp32 where present, else the smallest).' })
    .option('name', { type: 'string', describe: 'Name of the model folder (default: the repo name).' })
    .option('force', { type: 'boolean', default: false, describe: 'Replace an installed model of the same name.' })
    .conflicts('file', 'dtype')
    .example('$0 models pull Xenova/wav2vec2-base-960h', 'A wav2vec2 CTC model trained on 960 hours of real English speech.')) as unknown as Argv<PullArgs>,
  handler: async (argv: ArgumentsCamelCase<PullArgs>) => {
    const { pullModel } = await import('../hub/pull.js');
    const { userModelsDir } = await import('../encoder/index.js');
    const { progressBar } = await import('./progress.js');
    const bar = progressBar('downloading', 'bytes');
    const r = await pullModel({
      repo: argv.repo, file: argv.file, dtype: argv.dtype as 'fp32', name: argv.name, modelsDir: argv.modelsDir ?? userModelsDir(), force: argv.force,
      onProgress: (p) => bar.update(p.allBytes, p.allTotal), onLog: (line) => process.stderr.write(`${line}\n`),
    });
    bar.stop();
    const e = r.model.manifest.encoder;
    process.stdout.write(`pulled ${argv.repo} (commit ${r.commit.slice(0, 12)}) into ${r.model.dir}: ${e.kind} encoder, ${e.hiddenSize} per frame every ${e.frameShift * 1000} ms${r.model.manifest.ctcHead ? `, CTC head over ${r.model.manifest.ctcHead.vocab.length} symbols` : ', no CTC head'}\n`);
    if (r.note) process.stdout.write(`note: ${r.note}\n`);
  },
};

export const modelsCommand: CommandModule = {
  command: 'models <command>',
  describe: 'List, inspect, import and pull (from the Hugging Face Hub) pretrained models.',
  builder: (y) => y.command(list).command(inspect).command(importCmd).command(pull).demandCommand(1, 'Name a models command: list, inspect, import or pull.'),
  handler: () => undefined,
};
