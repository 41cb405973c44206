/**
 * The layout's rules, checked on the source: dependencies run one way (inference never imports the
 * trainer), no import cycles, no oversized files, and every public export documented.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LIB = path.join(ROOT, 'lib');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a source file (static, `import type`, re-exports and dynamic), as absolute .ts paths. */
export function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every cycle of the graph, each once, as a list of files (Tarjan's strongly connected components of size > 1, or self-loops). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), on = new Set<string>(), stack: string[] = [], out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const rel = (p: string): string => path.relative(ROOT, p);

describe('layout', () => {
  const files = sources(LIB);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('every relative import names a file that exists', () => {
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !fs.existsSync(d)).map((d) => `${rel(f)} -> ${rel(d)}`));
    assert.deepEqual(missing, []);
  });

  it('inference (pipeline, decode, encoder, features, audio, adapter) never imports lib/train or lib/cli', () => {
    const inference = ['pipeline', 'decode', 'encoder', 'features', 'audio', 'adapter', 'math'].map((d) => path.join(LIB, d) + path.sep);
    const forbidden = [path.join(LIB, 'train') + path.sep, path.join(LIB, 'cli') + path.sep];
    const bad = [...graph].filter(([f]) => inference.some((d) => f.startsWith(d)))
      .flatMap(([f, deps]) => deps.filter((d) => forbidden.some((x) => d.startsWith(x))).map((d) => `${rel(f)} -> ${rel(d)}`));
    assert.deepEqual(bad, []);
  });

  it('lib/train is imported by nothing outside it but the CLI, the queue worker (it runs training jobs), the public index and bench code', () => {
    const train = path.join(LIB, 'train') + path.sep;
    const allowed = (f: string): boolean => f.startsWith(train) || f.startsWith(path.join(LIB, 'cli') + path.sep) || f === path.join(LIB, 'queue', 'worker.ts') || f === path.join(LIB, 'index.ts');
    const bad = [...graph].filter(([f]) => !allowed(f)).flatMap(([f, deps]) => deps.filter((d) => d.startsWith(train)).map((d) => `${rel(f)} -> ${rel(d)}`));
    assert.deepEqual(bad, []);
  });

  it('audio and features import neither ONNX Runtime nor TensorFlow.js, and only lib/encoder/session.ts imports onnxruntime-node', () => {
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const r = rel(f);
      if (r.startsWith('lib/audio/') || r.startsWith('lib/features/')) assert.doesNotMatch(text, /onnxruntime|tensorflow/, r);
      if (r !== 'lib/encoder/session.ts') assert.doesNotMatch(text, /from ['"]onnxruntime-node['"]|import\(['"]onnxruntime-node['"]\)/, r);
    }
  });

  it('has no import cycles', () => {
    assert.deepEqual(cycles(graph).map((c) => c.map(rel).sort()), []);
  });

  it('the cycle finder finds a planted cycle', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]]);
    assert.deepEqual(cycles(g).map((c) => c.sort()), [['a', 'b', 'c'], ['e']]);
  });

  it('no file in lib/ is over 450 lines', () => {
    const long = files.map((f) => [rel(f), fs.readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 450);
    assert.deepEqual(long, []);
  });

  it('every export of lib/index.ts has a doc comment where it is declared', () => {
    const index = path.join(LIB, 'index.ts');
    const undocumented: string[] = [];
    for (const m of fs.readFileSync(index, 'utf8').matchAll(/export\s+(?:type\s+)?\{([^}]+)\}\s+from\s+['"](\.[^'"]+)['"]/g)) {
      const file = path.resolve(LIB, m[2].replace(/\.js$/, '.ts'));
      const names = m[1].split(',').map((s) => s.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]).filter(Boolean);
      for (const name of names) if (!documented(file, name, new Set())) undocumented.push(`${name} (${rel(file)})`);
    }
    assert.deepEqual(undocumented, []);
  });
});

/** Whether `name` is declared in `file` (or a module it re-exports it from) right after a /** ... *\/ comment. */
function documented(file: string, name: string, seen: Set<string>): boolean {
  if (seen.has(file) || !fs.existsSync(file)) return false;
  seen.add(file);
  const text = fs.readFileSync(file, 'utf8');
  const decl = new RegExp(`\\*/\\s*(?:@\\w+(?:\\([^)]*\\))?\\s*)*export\\s+(?:declare\\s+)?(?:default\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:function\\*?|class|interface|type|const|let|enum)\\s+${name}\\b`);
  if (decl.test(text)) return true;
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]+)\}\s+from\s+['"](\.[^'"]+)['"]/g)) {
    const names = m[1].split(',').map((s) => s.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]);
    if (names.includes(name) && documented(path.resolve(path.dirname(file), m[2].replace(/\.js$/, '.ts')), name, seen)) return true;
  }
  return false;
}
