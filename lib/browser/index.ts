/**
 * adapt-asr in the browser: load an export (`adapt-asr export`) by URL and transcribe with it.
 *
 *   import { loadWebRecognizer, decodeWav } from '/static/adapt-asr.web.js';  // dist/web, served
 *   const rec = await loadWebRecognizer('models/scottish/');
 *   const t = await rec.transcribe(decodeWav(new Uint8Array(await file.arrayBuffer())));
 *
 * The graph runs in onnxruntime-web (WebAssembly) in place of onnxruntime-node; the features,
 * chunking, decoding, LM and dictionary are the very modules Node uses (Recognizer.assemble,
 * Encoder.fromSession). Files come through a FileSource: fetch in a page, anything else elsewhere.
 * Bundled by examples/web/build.ts with esbuild; Node-only imports of shared modules are stubbed there.
 */
import * as ort from 'onnxruntime-web/wasm';
import { decodeWav } from '../audio/wav.js';
import { ArpaLm } from '../decode/arpa.js';
import { CtcHead } from '../decode/ctc-head.js';
import { Pronunciations } from '../decode/pronunciations.js';
import { Encoder } from '../encoder/encoder.js';
import { validateManifest } from '../encoder/manifest.js';
import { wrapSession } from '../encoder/session-wrap.js';
import { ModelError } from '../errors.js';
import { Recognizer } from '../pipeline/recognizer.js';
import type { DecodeOptions } from '../pipeline/types.js';

export { decodeWav, Recognizer };
export type { Transcript } from '../pipeline/types.js';

/** Where a model's files come from. */
export interface FileSource {
  /** A file's bytes; rejects with a message naming the file when it cannot be had. */
  bytes(name: string): Promise<Uint8Array>;
}

/** Files under a URL, fetched. */
export function urlSource(base: string): FileSource {
  const root = base.endsWith('/') ? base : `${base}/`;
  return {
    async bytes(name) {
      const url = new URL(name, new URL(root, (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/')).href;
      let r: Response;
      try {
        r = await fetch(url);
      } catch (err) {
        throw new ModelError(`cannot fetch (${(err as Error).message})`, url);
      }
      if (!r.ok) throw new ModelError(`cannot fetch (HTTP ${r.status})`, url);
      return new Uint8Array(await r.arrayBuffer());
    },
  };
}

/** A text file, gunzipped when it starts with gzip's magic bytes. */
async function readText(src: FileSource, name: string): Promise<string> {
  const b = await src.bytes(name);
  if (b[0] === 0x1f && b[1] === 0x8b) {
    const stream = new Blob([b as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).text();
  }
  return new TextDecoder().decode(b);
}

/** Options of loadWebRecognizer. */
export interface WebRecognizerOptions extends DecodeOptions {
  /** Where onnxruntime-web finds its .wasm files (default: beside this bundle). */
  wasmPaths?: string;
  /** WebAssembly threads (default 1: threads need a cross-origin-isolated page). */
  threads?: number;
  /** Called as each file arrives, with its name and size. */
  onFile?: (name: string, bytes: number) => void;
}

/** What loadWebRecognizer loaded: the recognizer, and the bytes downloaded. */
export interface WebRecognizer {
  recognizer: Recognizer;
  /** Bytes fetched, by file. */
  files: Record<string, number>;
}

/** Load an export from a URL (or a FileSource) into a Recognizer that transcribes and streams. */
export async function loadWebRecognizer(base: string | FileSource, options: WebRecognizerOptions = {}): Promise<WebRecognizer> {
  const src0 = typeof base === 'string' ? urlSource(base) : base;
  const files: Record<string, number> = {};
  const src: FileSource = {
    async bytes(name) {
      const b = await src0.bytes(name);
      files[name] = b.length;
      options.onFile?.(name, b.length);
      return b;
    },
  };
  const md = { dir: typeof base === 'string' ? base : '(files)', manifest: validateManifest(JSON.parse(await readText(src, 'model.json')), 'model.json') };
  const m = md.manifest, h = m.ctcHead!;
  if (m.encoder.output.type !== 'logprobs') throw new ModelError('the browser runs exports: make one with `adapt-asr export --accent <name> --out <folder>`', 'model.json');
  ort.env.wasm.numThreads = options.threads ?? 1;
  ort.env.wasm.wasmPaths = options.wasmPaths ?? new URL('./', import.meta.url).href;
  const graph = await src.bytes(m.encoder.file);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(graph, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  } catch (err) {
    throw new ModelError(`cannot load the ONNX graph (${(err as Error).message.split('\n')[0]})`, m.encoder.file);
  }
  const [lm, pron] = await Promise.all([
    options.useLm === false ? undefined : readText(src, 'lm.arpa.gz').then((t) => ArpaLm.parse(t, 'lm.arpa.gz'), () => undefined),
    (async () => {
      // The dictionary's files, fetched first; parsed by the code Node uses.
      const names = [h.pronunciations, h.g2p, h.addedWords].filter((n): n is string => !!n);
      const texts = new Map(await Promise.all(names.map(async (n) => [n, await readText(src, n)] as const)));
      return Pronunciations.fromFiles(h, (n) => texts.get(n)!);
    })(),
  ]);
  const encoder = Encoder.fromSession(md, wrapSession(session, ort.Tensor, m.encoder.file));
  return { recognizer: Recognizer.assemble(encoder, CtcHead.passThrough(h.vocab.length), { lm, pronunciations: pron }, options), files };
}
