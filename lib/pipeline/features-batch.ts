/**
 * Batch mode of `features`: every utterance of a dataset to <outDir>/<name>.npy, where name is the
 * audio file's base name. Resumable (existing outputs are kept); a file that fails is reported and
 * skipped. Used by the pretraining recipe so that training features are adapt-asr's own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadAudio } from '../audio/index.js';
import { readDataset } from '../data/manifest.js';
import { InputError } from '../errors.js';
import { getExtractor } from '../features/index.js';
import { writeNpy } from '../io/npy.js';

export interface BatchResult {
  done: number;
  skipped: number;
  failed: { file: string; error: string }[];
  audioSeconds: number;
}

export function runFeaturesBatch(manifest: string, outDir: string, preset: string, onProgress?: (i: number, n: number) => void): BatchResult {
  const ds = readDataset(manifest);
  const ex = getExtractor(preset);
  if (!fs.existsSync(outDir)) fs.mkdirSync(outDir, { recursive: true });
  const names = new Map<string, string>();
  for (const u of ds.utterances) {
    const name = path.basename(u.audio).replace(/\.[^.]+$/, '');
    const other = names.get(name);
    if (other && other !== u.audio) throw new InputError(`two audio files share the name ${name} (${other} and ${u.audio}); output names must be unique`, manifest);
    names.set(name, u.audio);
  }
  const result: BatchResult = { done: 0, skipped: 0, failed: [], audioSeconds: 0 };
  ds.utterances.forEach((u, i) => {
    const out = path.join(outDir, `${path.basename(u.audio).replace(/\.[^.]+$/, '')}.npy`);
    if (fs.existsSync(out)) {
      result.skipped++;
    } else {
      try {
        const audio = loadAudio(u.audio, { sampleRate: ex.config.sampleRate });
        const f = ex.compute(audio);
        if (f.numFrames === 0) throw new InputError('audio too short for one feature frame', u.audio);
        writeNpy(out, f.data, [f.numFrames, f.dim]);
        result.done++;
        result.audioSeconds += audio.samples.length / audio.sampleRate;
      } catch (err) {
        result.failed.push({ file: u.audio, error: (err as Error).message });
      }
    }
    onProgress?.(i + 1, ds.utterances.length);
  });
  return result;
}
