/**
 * bench/lm-memory: what holding a model's LM costs. Each measurement is a fresh process that reads the
 * bundled lm.arpa.gz and reports the load time and, after garbage collection, its resident memory
 * growth, JS heap and array buffers. Two ways to hold the same n-grams, side by side:
 *   typed arrays:  ArpaLm (hash tables of word ids, lib/decode/arpa.ts, since 2026-12-07);
 *   plain maps:    a Map from the joined words to [log10 p, back-off] per order, which is how ArpaLm
 *                  held them before (re-created here as the reference).
 * Usage: node dist/bench/lm-memory.js   (or npm run bench -- --only lm-memory)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArpaLm } from '../lib/decode/arpa.js';
import { readMaybeGzipped } from '../lib/io/text-file.js';
import { machine, median, table } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HERE = fileURLToPath(import.meta.url);
const REPS = 3;

interface Measure { seconds: number; rssMB: number; heapMB: number; buffersMB: number }

/** The reference: every order in a Map keyed by the joined words. */
function mapLm(file: string): Map<string, [number, number]>[] {
  const tables: Map<string, [number, number]>[] = [];
  let k = -1;
  for (const raw of readMaybeGzipped(file, 'language model').split(/\r?\n/)) {
    const line = raw.trim();
    const sec = /^\\(\d+)-grams:$/.exec(line);
    if (sec) { k = Number(sec[1]) - 1; tables[k] = new Map(); continue; }
    if (k < 0 || !line || line.startsWith('\\')) continue;
    const p = line.split(/\s+/);
    tables[k].set(p.slice(1, k + 2).join(' '), [Number(p[0]), p.length > k + 2 ? Number(p[k + 2]) : 0]);
  }
  return tables;
}

function child(impl: string, file: string): void {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const r0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const held = impl === 'typed' ? ArpaLm.parse(readMaybeGzipped(file, 'language model'), file) : mapLm(file);
  const seconds = (performance.now() - t0) / 1000;
  gc();
  gc();
  const m = process.memoryUsage();
  process.stdout.write(JSON.stringify({ seconds, rssMB: (m.rss - r0) / 1e6, heapMB: m.heapUsed / 1e6, buffersMB: m.arrayBuffers / 1e6 } satisfies Measure));
  if (!held) process.exitCode = 1; // (held until here)
}

export function benchLmMemory(): string {
  const rows: string[][] = [];
  for (const model of ['base-en', 'base-en-real']) {
    const file = path.join(ROOT, 'models', model, 'lm.arpa.gz');
    const head = readMaybeGzipped(file, 'language model').slice(0, 2000);
    const counts = [...head.matchAll(/ngram\s+\d+\s*=\s*(\d+)/g)].map((m) => Number(m[1]));
    for (const impl of ['maps', 'typed']) {
      const runs: Measure[] = [];
      for (let i = 0; i < REPS; i++) {
        const r = spawnSync(process.execPath, ['--expose-gc', HERE, '--child', impl, file], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`lm-memory child failed: ${r.stderr.slice(-400)}`);
        runs.push(JSON.parse(r.stdout) as Measure);
      }
      const med = (f: (m: Measure) => number, digits = 0): string => median(runs.map(f)).toFixed(digits);
      rows.push([model, counts.join(' / '), impl === 'typed' ? 'typed arrays (ArpaLm)' : 'plain maps (before)', med((m) => m.seconds, 2), med((m) => m.rssMB), med((m) => m.heapMB), med((m) => m.buffersMB)]);
    }
  }
  return `## Holding an LM (\`bench/lm-memory\`)\n\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine()} by \`node dist/bench/lm-memory.js\`: each number is the median of ${REPS} fresh processes that read the model's lm.arpa.gz (gunzip and parse included), then collect garbage. Every process that decodes with an LM holds one (transcribe, each serve or queue lane, train).\n\n`
    + table(['model', 'n-grams (1 / 2 / 3)', 'held as', 'load s', 'resident MB added', 'JS heap MB', 'array buffers MB'], rows) + '\n';
}

if (process.argv[1] === HERE) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) child(process.argv[i + 1], process.argv[i + 2]);
  else process.stdout.write(benchLmMemory() + '\n');
}
