/**
 * `adapt-asr pronounce <words..>`: how a phone model says words: from its dictionary, or guessed
 * (by parts, else by its letter-to-phone rules). For writing hotwords files and checking transcripts.
 */
import path from 'node:path';
import { DEFAULT_MODEL } from '../encoder/registry.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface PronounceArgs { words: string[]; model: string; modelsDir?: string; adapter?: string }

export const pronounceCommand: CommandModule<object, PronounceArgs> = {
  command: 'pronounce <words..>',
  describe: 'Show the phones a phone model uses for words: from its dictionary, or guessed for words it lacks (copy them into a hotwords file to correct them).',
  builder: (y) => y
    .positional('words', { type: 'string', array: true, demandOption: true, describe: 'Words (normalised as transcripts are: lower case, numbers spelled out).' })
    .option('model', { type: 'string', default: DEFAULT_MODEL, describe: 'Model name or folder.' })
    .option('adapter', { type: 'string', describe: 'An adapter folder: its training words (guessed when it was trained) count as dictionary words.' })
    .option('models-dir', { type: 'string', describe: 'Folder of your own models. Default: $ADAPT_ASR_MODELS_DIR, else ~/.local/share/adapt-asr/models.' })
    .example('$0 pronounce auchtermuchty loch', 'auchtermuchty  /AA K T ER M AH K T IY/  guessed') as unknown as Argv<PronounceArgs>,
  handler: async (argv: ArgumentsCamelCase<PronounceArgs>) => {
    const { resolveModel, userModelsDir } = await import('../encoder/index.js');
    const { Pronunciations } = await import('../decode/pronunciations.js');
    const { loadAdapter } = await import('../adapter/io.js');
    const { normalizeText } = await import('../text/normalize.js');
    const { ModelError } = await import('../errors.js');
    const md = resolveModel(argv.model, argv.modelsDir ?? userModelsDir());
    const head = md.manifest.ctcHead;
    const pron = head ? Pronunciations.forModel(md.dir, head) : undefined;
    if (!pron) throw new ModelError(`model '${md.manifest.name}' spells words letter by letter; it has no pronunciations`, md.dir);
    if (argv.adapter) pron.addWords(loadAdapter(argv.adapter).meta.words ?? {}, path.join(argv.adapter, 'adapter.json'));
    const lines: string[] = [];
    for (const w of normalizeText(argv.words.join(' ')).split(' ').filter(Boolean)) {
      const p = pron.pronounce(w);
      lines.push(p ? `${w}  /${p.phones.join(' ')}/  ${p.guessed ? 'guessed' : 'dictionary'}` : `${w}  (no pronunciation: letters the rules have never seen)`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  },
};
