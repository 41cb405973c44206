/** Paths of committed fixtures and the golden references (with a format check). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy } from '../../lib/io/npy.js';

/** Repository root (tests run from dist/test/...). */
export const ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();

export const wavFixture = (name: string): string => path.join(ROOT, 'test', 'fixtures', 'wav', name);
export const audioFixture = (name: string): string => path.join(ROOT, 'audio-fixtures', name);

interface GoldenManifest { format: string; version: number; torch: string; files: Record<string, { shape: number[] }> }
let manifest: GoldenManifest | null = null;

/** A golden array written by test/fixtures/make-golden.py. */
export function loadGolden(name: string): { data: Float32Array; shape: number[] } {
  if (!manifest) {
    manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'golden', 'manifest.json'), 'utf8')) as GoldenManifest;
    if (manifest.format !== 'adapt-asr-golden' || manifest.version !== 1) {
      throw new Error('golden manifest has an unknown format; HINT: re-run /usr/bin/python3 test/fixtures/make-golden.py');
    }
  }
  const entry = manifest.files[name];
  if (!entry) throw new Error(`no golden array '${name}' in the manifest`);
  const g = readNpy(path.join(ROOT, 'test', 'fixtures', 'golden', `${name}.npy`));
  if (g.shape.join('x') !== entry.shape.join('x')) throw new Error(`golden ${name}: shape ${g.shape} differs from manifest ${entry.shape}`);
  return g;
}
