/**
 * Where models live: the bundled ones (the package's models/ folder) and a user folder
 * ($ADAPT_ASR_MODELS_DIR, else $XDG_DATA_HOME/adapt-asr/models, else ~/.local/share/adapt-asr/models).
 * A model is named by its folder path or by its name in one of those folders.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError } from '../errors.js';
import { loadManifest, type ModelDir, type ModelManifest } from './manifest.js';

/** The package's own models/ folder. */
export function bundledModelsDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models');
}

/** The user's model folder (may not exist yet). */
export function userModelsDir(): string {
  if (process.env.ADAPT_ASR_MODELS_DIR) return path.resolve(process.env.ADAPT_ASR_MODELS_DIR);
  const data = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'adapt-asr', 'models');
}

/** One model folder as listModels finds it: bundled or the user's, and its manifest or why it is unusable. */
export interface ModelListing {
  name: string;
  dir: string;
  source: 'bundled' | 'user';
  manifest?: Readonly<ModelManifest>;
  /** Why the folder is not a usable model. */
  error?: string;
}

/**
 * The model `transcribe`, `eval`, the library and `train --data` use when none is named: the bundled
 * model that does best on real recordings (models/base-en-real/MODEL_CARD.md: VCTK p239 and the
 * zh-L1 speakers, beside base-en and PocketSphinx).
 */
export const DEFAULT_MODEL = 'base-en-real';

/**
 * The base model of the bundled accent data (audio-fixtures/accents): those recordings are synthetic
 * voices, which base-en was pretrained on and adapts best (its model card and bench/adaptation).
 */
export const BUNDLED_ACCENT_MODEL = 'base-en';

/** Every folder with a model.json in the bundled and user folders. */
export function listModels(modelsDir: string = userModelsDir()): ModelListing[] {
  const found: ModelListing[] = [];
  const seen = new Set<string>();
  for (const [root, source] of [[bundledModelsDir(), 'bundled'], [modelsDir, 'user']] as const) {
    if (!fs.existsSync(root) || seen.has(path.resolve(root))) continue;
    seen.add(path.resolve(root));
    for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
      const dir = path.join(root, entry.name);
      if (!entry.isDirectory() || entry.name.startsWith('.') || !fs.existsSync(path.join(dir, 'model.json'))) continue;
      try {
        found.push({ name: entry.name, dir, source, manifest: loadManifest(dir).manifest });
      } catch (err) {
        found.push({ name: entry.name, dir, source, error: (err as Error).message });
      }
    }
  }
  return found;
}

/** A model folder path, or a name looked up in modelsDir and then the bundled folder. */
export function resolveModel(spec: string, modelsDir: string = userModelsDir()): ModelDir {
  if (fs.existsSync(path.join(spec, 'model.json'))) return loadManifest(spec);
  if (!spec.includes('/') && !spec.includes(path.sep)) {
    for (const root of [modelsDir, bundledModelsDir()]) {
      const dir = path.join(root, spec);
      if (fs.existsSync(path.join(dir, 'model.json'))) return loadManifest(dir);
    }
  }
  if (fs.existsSync(spec)) return loadManifest(spec); // a folder without model.json: its own message
  const names = listModels(modelsDir).filter((m) => m.manifest).map((m) => m.name);
  throw new ModelError(`no model '${spec}' (not a folder with model.json, nor a model in ${modelsDir} or the bundled ones${names.length ? `: ${names.join(', ')}` : ''})`);
}
