/**
 * `npm run bench`: runs every benchmark and rewrites its section of BENCHMARKS.md (between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`), leaving the rest of the file alone.
 * Usage: npm run bench [-- --quick] [-- --only features]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchAdaptation, benchEnsembles } from './adaptation.js';
import { benchAdaptTime } from './adapt-time.js';
import { benchDecodeSpeed } from './decode-speed.js';
import { benchEncoders } from './encoders.js';
import { benchFeatures } from './features.js';
import { benchHub } from './hub.js';
import { benchLmMemory } from './lm-memory.js';
import { benchPocketsphinx } from './pocketsphinx.js';
import { benchRealVoices } from './real-voices.js';
import { benchReliability } from './reliability.js';
import { benchQueue } from './queue.js';
import { benchServe } from './serve-load.js';
import { benchWeb } from './web.js';
import { benchTrainSpeed } from './train-speed.js';
import { benchTranscribe } from './transcribe.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FILE = path.join(ROOT, 'BENCHMARKS.md');

const benches: Record<string, (quick: boolean) => string | Promise<string>> = {
  features: benchFeatures,
  encoders: benchEncoders,
  transcribe: benchTranscribe,
  'real-voices': (quick) => benchRealVoices(quick),
  hub: () => benchHub(),
  adaptation: benchAdaptation,
  ensembles: benchEnsembles,
  pocketsphinx: benchPocketsphinx, // reads the adaptation results, so it runs after them
  'train-speed': benchTrainSpeed,
  'adapt-time': (quick) => benchAdaptTime(quick, quick ? 'quick' : 'after'),
  'lm-memory': () => benchLmMemory(),
  'decode-speed': () => benchDecodeSpeed(),
  reliability: benchReliability,
  serve: (quick) => benchServe(quick),
  web: () => benchWeb(),
  queue: (quick) => benchQueue(quick),
};

function replaceSection(doc: string, name: string, body: string): string {
  const start = `<!-- bench:${name} -->`, end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const a = doc.indexOf(start), b = doc.indexOf(end);
  return a >= 0 && b > a ? doc.slice(0, a) + block + doc.slice(b + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
}

const quick = process.argv.includes('--quick');
const onlyIdx = process.argv.indexOf('--only');
const only = onlyIdx >= 0 ? process.argv[onlyIdx + 1] : undefined;
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  process.stderr.write(`bench ${name}...\n`);
  const body = await run(quick);
  process.stdout.write(body + '\n');
  // Read the file again now: a bench can run for half an hour, and other sections may have been edited meanwhile.
  const doc = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const tmp = `${FILE}.tmp`;
  fs.writeFileSync(tmp, replaceSection(doc, name, body));
  fs.renameSync(tmp, FILE);
}
