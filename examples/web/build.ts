/**
 * Build the browser bundle into dist/web/: adapt-asr.web.js (lib/browser as one ES module, with
 * onnxruntime-web), app.js (the example page's code), index.html, and onnxruntime-web's WebAssembly
 * files. The Node built-ins that shared modules import for their file paths (fs, path, os, zlib, crypto, url) are
 * replaced by a stub that throws if ever called (in the browser, files come through a FileSource), and
 * so is lib/encoder/session.ts, the one importer of onnxruntime-node.
 *
 *   node dist/examples/web/build.js      (npm run build runs it)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const OUT = path.join(ROOT, 'dist', 'web');
const ORT = path.join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
/** onnxruntime-web's plain WebAssembly backend: the binary and the glue module it imports at run time. */
export const ORT_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'];

const stubNode: esbuild.Plugin = {
  name: 'stub-node-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|path|os|zlib|crypto|url)$/ }, (a) => ({ path: a.path, namespace: 'node-stub' }));
    // lib/encoder/session.ts is the one importer of onnxruntime-node: the browser makes its sessions with onnxruntime-web.
    const session = path.join(ROOT, 'lib', 'encoder', 'session.js');
    b.onResolve({ filter: /session\.js$/ }, (a) => (path.resolve(a.resolveDir, a.path) === session ? { path: 'session', namespace: 'session-stub' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'session-stub' }, () => ({
      contents: "export const createSession = () => { throw new Error('in the browser, sessions come from onnxruntime-web'); };\nexport const onnxRuntimeVersion = () => 'web';",
      loader: 'js',
    }));
    // Model files are checked with path's pure string functions (model.json's file names): POSIX versions of those.
    b.onLoad({ filter: /^node:path$/, namespace: 'node-stub' }, () => ({
      contents: `const norm = (p) => p.replace(/\\/+/g, '/');
export const sep = '/';
export const isAbsolute = (p) => p.startsWith('/');
export const join = (...parts) => norm(parts.filter(Boolean).join('/'));
export const basename = (p) => p.replace(/\\/+$/, '').split('/').pop();
export const dirname = (p) => { const i = p.replace(/\\/+$/, '').lastIndexOf('/'); return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i); };
export const resolve = (...parts) => join(...parts);
export default { sep, isAbsolute, join, basename, dirname, resolve };`,
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, (a) => ({
      contents: `const fail = () => { throw new Error('${a.path} is not available in the browser'); };\nexport default new Proxy({}, { get: () => fail });\nexport const fileURLToPath = fail;`,
      loader: 'js',
    }));
  },
};

export async function buildWeb(): Promise<{ bundleBytes: number; appBytes: number }> {
  fs.rmSync(OUT, { recursive: true, force: true }); // no file of an earlier build may stand in for a missing one
  fs.mkdirSync(OUT, { recursive: true });
  await esbuild.build({
    entryPoints: { 'adapt-asr.web': path.join(ROOT, 'lib', 'browser', 'index.ts'), app: path.join(ROOT, 'examples', 'web', 'app.ts') },
    // wavefile's ES module has no default export; its CommonJS build (what Node loads) has.
    mainFields: ['main', 'module'],
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, outdir: OUT, plugins: [stubNode], logLevel: 'error',
    // onnxruntime-web finds its .wasm beside the bundle (WebRecognizerOptions.wasmPaths).
    external: [...ORT_FILES.map((f) => `./${f}`), './adapt-asr.web.js'],
  });
  for (const f of ORT_FILES) fs.copyFileSync(path.join(ORT, f), path.join(OUT, f));
  fs.copyFileSync(path.join(ROOT, 'examples', 'web', 'index.html'), path.join(OUT, 'index.html'));
  return { bundleBytes: fs.statSync(path.join(OUT, 'adapt-asr.web.js')).size, appBytes: fs.statSync(path.join(OUT, 'app.js')).size };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await buildWeb();
