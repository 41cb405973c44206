/**
 * A disk cache of encoder outputs, so that a second `train` on the same recordings skips encoding.
 * An entry is keyed by the model (its encoder's checksum and front end), the encoder output, the
 * speed factor and the audio file's content (sha256), so a changed or renamed file is never
 * confused with another. Entries are raw float32 frames behind a 24-byte header that is checked on
 * every read (a truncated or foreign file is a miss, then overwritten). The cache is bounded: the
 * least recently used entries go once it passes its limit.
 *
 * Folder: $ADAPT_ASR_CACHE, else $XDG_CACHE_HOME/adapt-asr, else ~/.cache/adapt-asr; entries under
 * encodings/. Limit: $ADAPT_ASR_CACHE_MB megabytes (default 2048). `adapt-asr cache` shows it,
 * `adapt-asr cache --clear` empties it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { sha256File } from '../io/sha256.js';
import type { ModelManifest } from './manifest.js';
import type { FileEncoder, FileEncoding } from './pool.js';

const MAGIC = 0x43454141; // 'AAEC' little-endian
const HEADER = 24;
export const DEFAULT_CACHE_MB = 2048;

/** The cache's root folder (see the file comment). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ADAPT_ASR_CACHE) return path.resolve(env.ADAPT_ASR_CACHE);
  return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'adapt-asr');
}

/** The size limit in bytes, from $ADAPT_ASR_CACHE_MB (a ConfigError names a bad value). */
export function cacheLimitBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.ADAPT_ASR_CACHE_MB;
  if (v === undefined || v === '') return DEFAULT_CACHE_MB * 2 ** 20;
  const mb = Number(v);
  if (!(Number.isFinite(mb) && mb >= 0)) throw new ConfigError(`ADAPT_ASR_CACHE_MB must be a number of megabytes (0 turns the cache off), got '${v}'`);
  return mb * 2 ** 20;
}

/** What a model's encodings depend on besides the audio: hashed into every key. */
export function modelCacheKey(m: Readonly<ModelManifest>): string {
  return crypto.createHash('sha256').update(JSON.stringify({ frontEnd: m.frontEnd, encoder: m.encoder })).digest('hex');
}

export interface CacheStats { dir: string; entries: number; bytes: number; limitBytes: number }

export class EncodingCache {
  readonly dir: string;
  hits = 0;
  misses = 0;

  constructor(root = cacheRoot(), readonly limitBytes = cacheLimitBytes()) {
    this.dir = path.join(root, 'encodings');
  }

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.f32`);
  }

  /** The frames stored under key, or undefined (absent, truncated or not an entry). */
  get(key: string): { frames: Float32Array; numFrames: number; dim: number; seconds: number } | undefined {
    const f = this.file(key);
    let fd: number;
    try {
      fd = fs.openSync(f, 'r');
    } catch {
      return undefined;
    }
    try {
      // The header, then the frames read straight into their own array (no second copy).
      const head = Buffer.alloc(HEADER);
      const size = fs.fstatSync(fd).size;
      if (size < HEADER || fs.readSync(fd, head, 0, HEADER, 0) !== HEADER) return undefined;
      if (head.readUInt32LE(0) !== MAGIC || head.readUInt32LE(4) !== 1) return undefined;
      const numFrames = head.readUInt32LE(8), dim = head.readUInt32LE(12), seconds = head.readDoubleLE(16);
      if (size !== HEADER + numFrames * dim * 4) return undefined;
      const frames = new Float32Array(numFrames * dim);
      const bytes = new Uint8Array(frames.buffer);
      let off = 0;
      while (off < bytes.length) {
        const n = fs.readSync(fd, bytes, off, bytes.length - off, HEADER + off);
        if (n <= 0) return undefined;
        off += n;
      }
      const now = new Date();
      try { fs.futimesSync(fd, now, now); } catch { /* read-only cache: still a hit */ }
      return { frames, numFrames, dim, seconds };
    } catch {
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Store frames under key (temporary file, then rename: a reader never sees half an entry). Failures are ignored: it is a cache. */
  put(key: string, frames: Float32Array, numFrames: number, dim: number, seconds: number): void {
    const f = this.file(key);
    const tmp = `${f}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      const head = Buffer.alloc(HEADER);
      head.writeUInt32LE(MAGIC, 0); head.writeUInt32LE(1, 4); head.writeUInt32LE(numFrames, 8); head.writeUInt32LE(dim, 12); head.writeDoubleLE(seconds, 16);
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, head);
        fs.writeSync(fd, new Uint8Array(frames.buffer, frames.byteOffset, numFrames * dim * 4));
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, f);
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  }

  private entries(): { file: string; bytes: number; mtime: number }[] {
    if (!fs.existsSync(this.dir)) return [];
    const out: { file: string; bytes: number; mtime: number }[] = [];
    for (const sub of fs.readdirSync(this.dir)) {
      const d = path.join(this.dir, sub);
      let names: string[];
      try { names = fs.readdirSync(d); } catch { continue; }
      for (const n of names) {
        if (!n.endsWith('.f32')) continue;
        try {
          const st = fs.statSync(path.join(d, n));
          out.push({ file: path.join(d, n), bytes: st.size, mtime: st.mtimeMs });
        } catch { /* removed meanwhile */ }
      }
    }
    return out;
  }

  stats(): CacheStats {
    const es = this.entries();
    return { dir: this.dir, entries: es.length, bytes: es.reduce((a, e) => a + e.bytes, 0), limitBytes: this.limitBytes };
  }

  /** Remove the least recently used entries until the cache is within its limit; returns the bytes removed. */
  prune(): number {
    const es = this.entries().sort((a, b) => a.mtime - b.mtime);
    let total = es.reduce((a, e) => a + e.bytes, 0), removed = 0;
    for (const e of es) {
      if (total <= this.limitBytes) break;
      fs.rmSync(e.file, { force: true });
      total -= e.bytes;
      removed += e.bytes;
    }
    return removed;
  }

  /** Remove every entry; returns how many there were. */
  clear(): number {
    const n = this.entries().length;
    fs.rmSync(this.dir, { recursive: true, force: true });
    return n;
  }
}

/**
 * A FileEncoder that answers from the cache where it can and asks `inner` for the rest (only the
 * factors missing), storing what it computes.
 */
export function cachedFileEncoder(inner: FileEncoder, cache: EncodingCache, modelKey: string, dim: number): FileEncoder {
  return {
    async encodeFile(file, factors, output) {
      let audioHash: string;
      try {
        audioHash = sha256File(file);
      } catch {
        return inner.encodeFile(file, factors, output); // let the encoder say what is wrong with the file
      }
      const key = (f: number): string => crypto.createHash('sha256').update(`${modelKey}\n${output ?? ''}\n${f}\n${audioHash}`).digest('hex');
      const found = new Map<number, ReturnType<EncodingCache['get']>>();
      for (const f of factors) {
        const e = cache.get(key(f));
        if (e && e.dim === dim) found.set(f, e);
      }
      const missing = factors.filter((f) => !found.has(f));
      cache.hits += found.size;
      cache.misses += missing.length;
      let fresh: FileEncoding | undefined;
      if (missing.length) {
        fresh = await inner.encodeFile(file, missing, output);
        for (const o of fresh.outputs) cache.put(key(o.factor), o.frames, o.numFrames, dim, fresh.seconds);
      }
      const seconds = fresh?.seconds ?? [...found.values()][0]!.seconds;
      return {
        seconds,
        outputs: factors.map((f) => {
          const c = found.get(f);
          return c ? { factor: f, frames: c.frames, numFrames: c.numFrames } : fresh!.outputs.find((o) => o.factor === f)!;
        }),
      };
    },
    release: () => inner.release(),
  };
}
