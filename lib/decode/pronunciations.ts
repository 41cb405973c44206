/**
 * A pronunciation dictionary for phone-CTC models: word -> phone sequences (cmudict style, one
 * pronunciation per line: `word PH1 PH2 ...`, `#` comments, plain or gzipped). It gives training
 * targets (a transcript's phones, first pronunciation of each word, words separated by ' ') and
 * the decoding lexicon (phone trie whose word ends list the words said that way).
 */
import { ConfigError, InputError } from '../errors.js';
import { readMaybeGzipped } from '../io/text-file.js';
import type { Hotword } from './ctc-beam.js';
import { Lexicon } from './lexicon.js';

export class Pronunciations {
  private readonly dict: Map<string, string[][]>;
  private readonly lexicons = new Map<unknown, Lexicon>();

  constructor(dict: Map<string, string[][]>) {
    this.dict = dict;
  }

  /** Parse a dictionary; phones must all be in `units` when given (the model's CTC symbols). */
  static load(file: string, units?: readonly string[]): Pronunciations {
    const known = units ? new Set(units) : undefined;
    const dict = new Map<string, string[][]>();
    const lines = readMaybeGzipped(file, 'pronunciation dictionary').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line || line.startsWith('#')) continue;
      const parts = line.split(/\s+/);
      if (parts.length < 2) throw new InputError(`line ${i + 1}: a word with no phones: ${JSON.stringify(line.slice(0, 60))}`, file);
      const phones = parts.slice(1);
      const bad = known && phones.find((p) => !known.has(p) || p === ' ');
      if (bad) throw new InputError(`line ${i + 1}: phone ${JSON.stringify(bad)} is not one of the model's symbols`, file);
      const list = dict.get(parts[0]);
      if (list) list.push(phones); else dict.set(parts[0], [phones]);
    }
    if (dict.size === 0) throw new InputError('pronunciation dictionary is empty', file);
    return new Pronunciations(dict);
  }

  get size(): number {
    return this.dict.size;
  }

  has(word: string): boolean {
    return this.dict.has(word);
  }

  /** All pronunciations of a word (first = preferred), or undefined. */
  of(word: string): readonly string[][] | undefined {
    return this.dict.get(word);
  }

  /**
   * A normalised transcript as CTC targets: each word's first pronunciation, ' ' between words.
   * Returns the first word without a pronunciation instead, if any.
   */
  targets(text: string): { symbols: string[] } | { missing: string } {
    const symbols: string[] = [];
    for (const w of text.split(' ')) {
      if (!w) continue;
      const p = this.dict.get(w);
      if (!p) return { missing: w };
      if (symbols.length) symbols.push(' ');
      symbols.push(...p[0]);
    }
    return { symbols };
  }

  /**
   * A hotword with its phones: as given (checked against the model's symbols), else each word's
   * first pronunciation; a word without one is an error that says how to give it.
   */
  hotword(h: Hotword, units: readonly string[]): Hotword {
    if (h.symbols) {
      const bad = h.symbols.find((p) => !units.includes(p) || units.indexOf(p) === 0);
      if (bad !== undefined) throw new ConfigError(`hotword "${h.phrase}": phone "${bad}" is not one of the model's (${units.slice(2, 8).join(' ')} ...)`);
      return h;
    }
    const t = this.targets(h.phrase);
    if ('missing' in t) throw new ConfigError(`hotword "${h.phrase}": the model's pronunciation dictionary has no "${t.missing}"; give its phones in the hotwords file, e.g. "${t.missing} 2 /${this.example()}/"`);
    return { ...h, symbols: t.symbols };
  }

  /** A pronunciation to show in messages. */
  private example(): string {
    return (this.dict.get('speech') ?? this.dict.values().next().value ?? [['...']])[0].join(' ');
  }

  /**
   * The decoding lexicon over these words (default: every word of the dictionary), with all their
   * pronunciations; words without one are left out. Built once per word source and cached.
   */
  lexicon(source?: { words(): Iterable<string> }): Lexicon {
    const key = source ?? this;
    let lex = this.lexicons.get(key);
    if (!lex) {
      lex = new Lexicon([], true);
      for (const w of source ? source.words() : this.dict.keys()) for (const p of this.dict.get(w) ?? []) lex.add(w, p);
      this.lexicons.set(key, lex);
    }
    return lex;
  }
}
