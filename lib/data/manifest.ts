/**
 * Datasets of (audio, transcript): a folder of WAVs with transcripts.tsv (`file<TAB>text`, with an
 * optional third column naming the speaker), or a
 * JSONL manifest (NeMo convention: audio_filepath, text, optional duration, speaker), with paths
 * relative to the manifest. Problems are reported with file and line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';

export interface Utterance {
  /** Stable id: the audio path relative to the dataset root, without extension. */
  id: string;
  audio: string;
  text: string;
  duration?: number;
  speaker?: string;
}

export interface Dataset {
  /** Where it was read from (folder or manifest file). */
  source: string;
  utterances: Utterance[];
}

const MAX_LINE = 1 << 16;

/** Read a dataset from a folder (with transcripts.tsv) or a .jsonl manifest. */
export function readDataset(spec: string): Dataset {
  let st: fs.Stats;
  try {
    st = fs.statSync(spec);
  } catch {
    throw new InputError('not found (expected a folder with transcripts.tsv or a .jsonl manifest)', spec);
  }
  if (st.isDirectory()) {
    const tsv = path.join(spec, 'transcripts.tsv');
    if (!fs.existsSync(tsv)) throw new InputError('folder has no transcripts.tsv (lines of file<TAB>text)', spec);
    return { source: spec, utterances: readTsv(tsv) };
  }
  return { source: spec, utterances: readJsonl(spec) };
}

/** The .wav files of a folder (not its subfolders), sorted, as paths joined to `dir`. */
export function wavFilesIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => /\.wav$/i.test(f)).sort().map((f) => path.join(dir, f));
}

/** The lines of a text file; a binary file is refused. */
export function lines(file: string): string[] {
  const text = fs.readFileSync(file);
  if (text.includes(0)) throw new InputError('is a binary file, not a text manifest', file);
  return text.toString('utf8').split(/\r?\n/);
}

export function readTsv(file: string): Utterance[] {
  const dir = path.dirname(file);
  const out: Utterance[] = [];
  lines(file).forEach((line, i) => {
    if (!line.trim() || line.startsWith('#')) return;
    if (line.length > MAX_LINE) throw new InputError(`line ${i + 1} is longer than ${MAX_LINE} characters`, file);
    const tab = line.indexOf('\t');
    if (tab <= 0) throw new InputError(`line ${i + 1}: expected file<TAB>text, found ${JSON.stringify(line.slice(0, 60))}`, file);
    const [rel, text, speaker] = line.split('\t').map((c) => c.trim());
    out.push({ id: rel.replace(/\.[^./]+$/, ''), audio: path.resolve(dir, rel), text: text ?? '', ...(speaker ? { speaker } : {}) });
  });
  return out;
}

/**
 * Read a JSONL manifest. With `textOptional` (a list of audio to transcribe, not training data),
 * lines without "text" are accepted, with text ''.
 */
export function readJsonl(file: string, { textOptional = false } = {}): Utterance[] {
  const dir = path.dirname(file);
  const out: Utterance[] = [];
  lines(file).forEach((line, i) => {
    if (!line.trim()) return;
    if (line.length > MAX_LINE) throw new InputError(`line ${i + 1} is longer than ${MAX_LINE} characters`, file);
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      throw new InputError(`line ${i + 1} is not valid JSON`, file);
    }
    if (!o || typeof o !== 'object' || typeof o.audio_filepath !== 'string' || !o.audio_filepath) {
      throw new InputError(`line ${i + 1}: needs "audio_filepath" (a string)`, file);
    }
    if (typeof o.text !== 'string' && !(textOptional && o.text === undefined)) throw new InputError(`line ${i + 1}: needs "text" (a string)`, file);
    const rel = o.audio_filepath;
    out.push({
      id: rel.replace(/\.[^./]+$/, '').replace(/^(\.\.\/)+/, ''),
      audio: path.resolve(dir, rel),
      text: typeof o.text === 'string' ? o.text : '',
      ...(typeof o.duration === 'number' ? { duration: o.duration } : {}),
      ...(typeof o.speaker === 'string' || typeof o.speaker === 'number' ? { speaker: String(o.speaker) } : {}),
    });
  });
  return out;
}
