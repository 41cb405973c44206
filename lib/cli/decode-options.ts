/** Options shared by transcribe and eval: which model, and how to decode. */
import fs from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import type { Hotword } from '../decode/ctc-beam.js';
import { InputError, UsageError } from '../errors.js';

export interface ModelArgs { model: string; modelsDir?: string; threads?: number; accent?: string; adapter?: string }
export interface DecodeArgs { beam?: number; lm?: string | false; lmWeight?: number; wordBonus?: number; hotwords?: string; lexicon?: boolean; oovPenalty?: number; blankPenalty?: number }

export function withModelOptions<T>(y: Argv<T>): Argv<T & ModelArgs> {
  return y
    .option('model', { type: 'string', describe: 'The pretrained model: a name (bundled, or in --models-dir) or a model folder. Default: the adapter\'s own base model with --accent/--adapter, else base-en-real (the bundled model that does best on real recordings).' })
    .option('models-dir', { type: 'string', describe: 'Folder of your own models. Default: $ADAPT_ASR_MODELS_DIR, else ~/.local/share/adapt-asr/models.' })
    .option('threads', { type: 'number', describe: 'ONNX Runtime threads for the encoder (default: all cores).' })
    .option('accent', { type: 'string', describe: 'Use the adapter trained for this accent, ./adapters/<accent> (made by adapt-asr train).' })
    .option('adapter', { type: 'string', describe: 'Use the adapter in this folder.' })
    .conflicts('accent', 'adapter') as unknown as Argv<T & ModelArgs>;
}

export function withDecodeOptions<T>(y: Argv<T>): Argv<T & DecodeArgs> {
  return y
    .option('beam', { type: 'number', describe: 'Beam width of the CTC prefix beam search; 1 is greedy decoding. Default: 8 when a language model is used, else 1.' })
    .option('lm', { type: 'string', describe: 'An ARPA word n-gram language model (.arpa or .arpa.gz) to use instead of the model\'s own lm.arpa.gz. --no-lm decodes without one (with --beam 1: plain greedy decoding).' })
    .option('lm-weight', { type: 'number', describe: 'Weight of the language model score (default: the value tuned for the model, in its model.json; else 0.5).' })
    .option('word-bonus', { type: 'number', describe: 'Score added per word, against the LM\'s preference for short outputs (default: the value tuned for decoding with the LM, the adapter\'s or the model\'s, else 1.0; with --no-lm, the model\'s no-LM value, else 0).' })
    .option('lexicon', { type: 'boolean', describe: 'Spell only words the language model knows (and hotwords). Default: as tuned for the model. --no-lexicon lets the search spell new words (for a phone model: any word of its pronunciation dictionary).' })
    .option('oov-penalty', { type: 'number', describe: 'With --lexicon: allow words outside it at this cost in nats per word, instead of never (character models only).' })
    .option('blank-penalty', { type: 'number', describe: 'Nats taken from the CTC blank\'s log-probability in every frame of the beam search: higher keeps more of the sounds an unsure model blanks out (default: the value tuned for the model, in its model.json; else 0).' })
    .option('hotwords', { type: 'string', describe: 'A file of words or phrases to favour, one per line, optionally followed by a boost in nats per character (default 1.0), e.g. "glasgow 2". For a phone model, a word its dictionary lacks gets guessed phones (see `adapt-asr pronounce`); give them between slashes to override: "auchtermuchty 2 /AA K T ER M AH K T IY/".' }) as unknown as Argv<T & DecodeArgs>;
}

/**
 * Read a hotwords file: `phrase [boost] [/PHONES/]` per line. A phone model takes each word's
 * pronunciation from its dictionary, else guesses it, unless given between slashes (words
 * separated by `|`), e.g. `auchtermuchty 2 /AA K T ER M AH K T IY/`.
 */
export function readHotwords(file: string): Hotword[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read hotwords (${(err as NodeJS.ErrnoException).code})`, file);
  }
  const out: Hotword[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    let l = line.trim();
    if (!l || l.startsWith('#')) return;
    let said: string[] | undefined;
    const pron = /\/([^/]*)\/$/.exec(l);
    if (pron) {
      l = l.slice(0, pron.index).trim();
      said = pron[1].trim().split(/\s*\|\s*/).flatMap((w, k) => (k ? [' ', ...w.split(/\s+/)] : w.split(/\s+/)));
      if (said.some((p) => p === '')) throw new InputError(`line ${i + 1}: empty pronunciation between the slashes`, file);
    }
    const m = /^(.*?)(?:\s+(-?\d+(?:\.\d+)?))?$/.exec(l)!;
    const phrase = m[1].toLowerCase().replace(/[^a-z' ]+/g, ' ').replace(/\s+/g, ' ').trim();
    if (!phrase) throw new InputError(`line ${i + 1}: no word left after normalisation`, file);
    const boost = m[2] !== undefined ? Number(m[2]) : 1.0;
    if (!(boost > 0 && boost <= 20)) throw new InputError(`line ${i + 1}: boost must be in (0, 20], got ${m[2]}`, file);
    if (said && said.filter((p) => p === ' ').length !== phrase.split(' ').length - 1) {
      throw new InputError(`line ${i + 1}: the pronunciation has ${said.filter((p) => p === ' ').length + 1} word(s) ('|' between words), the phrase ${phrase.split(' ').length}`, file);
    }
    out.push(said ? { phrase, boost, symbols: said } : { phrase, boost });
  });
  if (out.length === 0) throw new InputError('no hotwords in file', file);
  return out;
}

/** Recognizer options from parsed arguments. */
export function recognizerOptions(argv: ModelArgs & DecodeArgs) {
  const adapter = argv.adapter ?? (argv.accent ? path.join('adapters', argv.accent) : undefined);
  if (argv.accent && !fs.existsSync(path.join('adapters', argv.accent, 'adapter.json'))) {
    throw new UsageError(`no adapter for accent '${argv.accent}' in ./adapters; train one with \`adapt-asr train --accent ${argv.accent}\` or name a folder with --adapter`);
  }
  return {
    model: argv.model, modelsDir: argv.modelsDir, threads: argv.threads, beam: argv.beam, adapter,
    // yargs turns --no-lm into lm: false.
    lm: typeof argv.lm === 'string' ? argv.lm : undefined, useLm: argv.lm === false ? false : undefined,
    lmWeight: argv.lmWeight, wordBonus: argv.wordBonus, lexicon: argv.lexicon, oovPenalty: argv.oovPenalty, blankPenalty: argv.blankPenalty,
    hotwords: argv.hotwords ? readHotwords(argv.hotwords) : undefined,
  };
}

/** One line on stderr when the adapter in use did not beat the base model in training. */
export function warnIfRejected(rec: { adapter?: { meta?: { accepted?: boolean; dev?: { accepted: boolean; verdict: string } } } }): void {
  const dev = rec.adapter?.meta?.dev;
  if (dev && !dev.accepted) process.stderr.write(`adapt-asr: warning: this adapter was ${dev.verdict}\n`);
}
