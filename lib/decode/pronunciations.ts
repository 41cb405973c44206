/**
 * A pronunciation dictionary for phone-CTC models: word -> phone sequences (cmudict style, one
 * pronunciation per line: `word PH1 PH2 ...`, `#` comments, plain or gzipped). It gives training
 * targets (a transcript's phones, first pronunciation of each word, words separated by ' ') and
 * the decoding lexicon (phone trie whose word ends list the words said that way). A word the
 * dictionary lacks gets a guessed pronunciation (g2p.ts): by its parts, else by the model's
 * letter-to-phone rules when it ships them.
 */
import path from 'node:path';
import { ConfigError, InputError, ModelError } from '../errors.js';
import { readMaybeGzipped } from '../io/text-file.js';
import type { Hotword } from './ctc-beam.js';
import { guessByParts, LetterToPhone } from './g2p.js';
import { Lexicon } from './lexicon.js';

/** The parts of model.json's ctcHead that name a phone model's dictionary files. */
export interface PhoneHead { vocab: readonly string[]; pronunciations?: string; g2p?: string; addedWords?: string }

export class Pronunciations {
  private readonly dict: Map<string, string[][]>;
  private readonly lexicons = new Map<unknown, Lexicon>();
  private readonly rules?: LetterToPhone;
  /** Guesses made so far (null: none possible), so each word is guessed once. */
  private readonly guesses = new Map<string, string[] | null>();
  /** Words added after loading (an adapter's guessed words): always in the lexicon. */
  private readonly added = new Set<string>();
  private readonly units?: ReadonlySet<string>;

  constructor(dict: Map<string, string[][]>, rules?: LetterToPhone, units?: readonly string[]) {
    this.dict = dict;
    this.rules = rules;
    this.units = units ? new Set(units.filter((u, i) => i > 0 && u !== ' ')) : undefined;
  }

  /**
   * Parse a dictionary; phones must all be in `units` when given (the model's CTC symbols).
   * `rulesFile`: letter-to-phone rules for words the dictionary lacks (see g2p.ts).
   */
  static load(file: string, units?: readonly string[], rulesFile?: string): Pronunciations {
    return Pronunciations.parse(readMaybeGzipped(file, 'pronunciation dictionary'), file, units, rulesFile ? LetterToPhone.load(rulesFile) : undefined);
  }

  /** Parse a dictionary's text (`file` names it in errors); see load(). */
  static parse(text: string, file: string, units?: readonly string[], rules?: LetterToPhone): Pronunciations {
    const known = units ? new Set(units) : undefined;
    const dict = new Map<string, string[][]>();
    const lines = text.split('\n');
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
    return new Pronunciations(dict, rules, units);
  }

  /** Add every entry of another dictionary (an export's added words): they join every lexicon. */
  addAll(other: Pronunciations): void {
    for (const [w, list] of other.dict) for (const phones of list) this.add(w, phones);
  }

  /** A phone model's dictionary and rules (model.json ctcHead), or undefined for a character model. */
  static forModel(dir: string, head: PhoneHead): Pronunciations | undefined {
    return Pronunciations.fromFiles(head, (name) => readMaybeGzipped(path.join(dir, name), name === head.g2p ? 'letter-to-phone rules' : 'pronunciation dictionary'), (name) => path.join(dir, name));
  }

  /**
   * A phone model's dictionary from its files' texts, however they are read (from disk, or fetched
   * in the browser): the dictionary, the letter-to-phone rules, and an export's added words.
   * `where` names a file in errors.
   */
  static fromFiles(head: PhoneHead, text: (name: string) => string, where: (name: string) => string = (n) => n): Pronunciations | undefined {
    if (!head.pronunciations) return undefined;
    const rules = head.g2p ? LetterToPhone.parse(text(head.g2p), where(head.g2p)) : undefined;
    const p = Pronunciations.parse(text(head.pronunciations), where(head.pronunciations), head.vocab, rules);
    // An export's added words (an adapter's guesses): in every lexicon, as the adapter's words are.
    if (head.addedWords) p.addAll(Pronunciations.parse(text(head.addedWords), where(head.addedWords), head.vocab));
    return p;
  }

  get size(): number {
    return this.dict.size;
  }

  /** The dictionary's words, in file order. */
  words(): IterableIterator<string> {
    return this.dict.keys();
  }

  has(word: string): boolean {
    return this.dict.has(word);
  }

  /** All pronunciations of a word (first = preferred), or undefined. */
  of(word: string): readonly string[][] | undefined {
    return this.dict.get(word);
  }

  /**
   * A word's phones: its first pronunciation in the dictionary, else a guess (by its parts, else by
   * the letter-to-phone rules), else undefined (no rules, or letters the rules have never seen).
   */
  pronounce(word: string): { phones: readonly string[]; guessed: boolean } | undefined {
    const known = this.dict.get(word);
    if (known) return { phones: known[0], guessed: false };
    let g = this.guesses.get(word);
    if (g === undefined) {
      g = guessByParts(word, (w) => this.dict.get(w)?.[0]) ?? this.rules?.guess(word) ?? null;
      if (g && (g.length === 0 || (this.units && g.some((p) => !this.units!.has(p))))) g = null;
      this.guesses.set(word, g);
    }
    return g ? { phones: g, guessed: true } : undefined;
  }

  /** The guesses made so far: word -> phones. */
  guessed(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [w, g] of this.guesses) if (g) out.set(w, g);
    return out;
  }

  /**
   * Add an adapter's guessed training words (adapter.json `words`: word -> space-separated phones);
   * phones the model lacks mean the adapter was made for another model: an error naming `file`.
   */
  addWords(words: Readonly<Record<string, string>>, file?: string): void {
    for (const [w, phones] of Object.entries(words)) {
      try {
        this.add(w, phones.split(' '));
      } catch (err) {
        throw new ModelError(`adapter.json "words": ${(err as Error).message}; the adapter was trained for another model`, file);
      }
    }
  }

  /** Add a word said `phones`; it joins every lexicon. */
  add(word: string, phones: string[]): void {
    if (this.units) {
      const bad = phones.find((p) => !this.units!.has(p));
      if (bad !== undefined) throw new InputError(`pronunciation of "${word}": phone "${bad}" is not one of the model's symbols`);
    }
    const list = this.dict.get(word);
    if (list?.some((p) => p.join(' ') === phones.join(' '))) return;
    if (list) list.push(phones); else this.dict.set(word, [phones]);
    this.added.add(word);
    this.lexicons.clear();
  }

  /**
   * A normalised transcript as CTC targets: each word's phones (see pronounce()), ' ' between
   * words. Returns the first word with none instead, if any.
   */
  targets(text: string): { symbols: string[] } | { missing: string } {
    const symbols: string[] = [];
    for (const w of text.split(' ')) {
      if (!w) continue;
      const p = this.pronounce(w);
      if (!p) return { missing: w };
      if (symbols.length) symbols.push(' ');
      symbols.push(...p.phones);
    }
    return { symbols };
  }

  /**
   * A hotword with its phones: as given (checked against the model's symbols), else each word's
   * pronunciation or guess (see pronounce()); a word with neither is an error that says how to give it.
   */
  hotword(h: Hotword, units: readonly string[]): Hotword {
    if (h.symbols) {
      const bad = h.symbols.find((p) => !units.includes(p) || units.indexOf(p) === 0);
      if (bad !== undefined) throw new ConfigError(`hotword "${h.phrase}": phone "${bad}" is not one of the model's (${units.slice(2, 8).join(' ')} ...)`);
      return h;
    }
    const t = this.targets(h.phrase);
    if ('missing' in t) throw new ConfigError(`hotword "${h.phrase}": no pronunciation for "${t.missing}" (not in the model's dictionary, and its letters cannot be guessed); give its phones in the hotwords file, e.g. "${t.missing} 2 /${this.example()}/"`);
    return { ...h, symbols: t.symbols };
  }

  /** A pronunciation to show in messages. */
  private example(): string {
    return (this.dict.get('speech') ?? this.dict.values().next().value ?? [['...']])[0].join(' ');
  }

  /**
   * The decoding lexicon over these words (default: every word of the dictionary) and the added
   * ones, with all their pronunciations; words without one are left out. Built once per word
   * source and cached.
   */
  lexicon(source?: { words(): Iterable<string> }): Lexicon {
    const key = source ?? this;
    let lex = this.lexicons.get(key);
    if (!lex) {
      lex = new Lexicon([], true);
      for (const w of source ? source.words() : this.dict.keys()) for (const p of this.dict.get(w) ?? []) lex.add(w, p);
      if (source) for (const w of this.added) for (const p of this.dict.get(w)!) lex.add(w, p);
      this.lexicons.set(key, lex);
    }
    return lex;
  }
}
