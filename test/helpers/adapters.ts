/** Adapters with random (non-trivial) weights for a model, saved as `adapt-asr train` saves them. */
import path from 'node:path';
import { saveAdapter, type AdapterMeta } from '../../lib/adapter/io.js';
import type { AdapterMethod, AdapterWeights } from '../../lib/adapter/math.js';
import { loadManifest } from '../../lib/encoder/manifest.js';
import { readNpy } from '../../lib/io/npy.js';
import { loadTopBlocks } from '../../lib/encoder/top.js';
import { initAdapter } from '../../lib/train/adapter-model.js';
import { rng } from '../../lib/util/random.js';

const randn = (n: number, seed: number, scale: number): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() - 0.5) * 2 * scale);
};

/**
 * Save an adapter of `members` members for the model in `modelDir` to `out`: method 'adapter'
 * (bottleneck 16, context 5, up-projection and head moved away from their starting values) or 'top'.
 */
export function randomAdapter(modelDir: string, out: string, opts: { method?: AdapterMethod; members?: number; words?: Record<string, string>; accepted?: boolean; accent?: string } = {}): AdapterWeights[] {
  const md = loadManifest(modelDir);
  const m = md.manifest, d = m.encoder.hiddenSize, V = m.ctcHead!.vocab.length;
  const hw = readNpy(path.join(md.dir, m.ctcHead!.weights!)).data, hb = readNpy(path.join(md.dir, m.ctcHead!.bias!)).data;
  const method = opts.method ?? 'adapter';
  const top = method === 'top' ? loadTopBlocks(md) : undefined;
  const members = Array.from({ length: opts.members ?? 1 }, (_, k) => {
    const w = initAdapter(method, d, V, hw, hb, 16, 5, k + 1, top);
    if (method === 'adapter') w.upW = randn(16 * d, 10 + k, 0.3);
    if (method === 'top') w.top![0].pwW = randn(d * d, 20 + k, 0.2);
    const noise = randn(d * V, 30 + k, 0.05);
    w.headW = w.headW.map((x, i) => x + noise[i]);
    return w;
  });
  const meta: Omit<AdapterMeta, 'weights' | 'version'> = {
    format: 'adapt-asr-adapter', accent: opts.accent ?? 'test', method, base: { name: m.name, modelVersion: m.modelVersion, encoderSha256: m.encoder.sha256 },
    hyperParameters: {}, data: { minutes: 1, utterances: 1, speakers: 1, devUtterances: 0, devSpeakers: [], skipped: 0, source: 'test' },
    dev: { baseWer: 0.5, adaptedWer: 0.4, baseCer: 0.3, adaptedCer: 0.2, words: 100, accepted: opts.accepted ?? true, verdict: opts.accepted === false ? 'rejected (test)' : 'accepted (test)' },
    training: { epochs: 1, bestEpoch: 1, seconds: 0, backend: 'wasm' }, toolkitVersion: '0', date: new Date(0).toISOString(),
    ...(opts.words ? { words: opts.words } : {}),
  };
  saveAdapter(out, meta, members, true);
  return members;
}
