/**
 * Downloads from the Hugging Face Hub into a local cache laid out as huggingface_hub lays it out
 * (so Python and adapt-asr share downloads):
 *
 *   <cache>/models--<owner>--<name>/refs/<revision>        the commit a branch or tag resolved to
 *   <cache>/models--<owner>--<name>/blobs/<oid>            file contents, named by checksum
 *   <cache>/models--<owner>--<name>/blobs/<oid>.incomplete a download in progress (resumed from its size)
 *   <cache>/models--<owner>--<name>/snapshots/<commit>/<path>  links to the blobs
 *
 * The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. Each file streams to
 * disk through a fixed-size buffer (memory stays flat whatever the file's size) while its checksum is
 * computed: sha256 for LFS files, the git blob sha1 for small ones; a mismatch deletes the download.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelError } from '../errors.js';
import type { HubClient, HubFile } from './client.js';

/** The cache folder (see the file comment). */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  return path.join(env.HF_HOME ?? path.join(os.homedir(), '.cache', 'huggingface'), 'hub');
}

/** The cache folder of one model repo. */
export const repoCacheDir = (cache: string, repo: string): string => path.join(cache, `models--${repo.replace(/\//g, '--')}`);

/** Progress of a download: bytes so far (of this file and of all files) and the totals. */
export interface DownloadProgress { file: string; bytes: number; total: number }

/** The checksum a file's oid is: sha256 of the content (LFS) or git's blob sha1. */
function hasher(f: HubFile): crypto.Hash {
  if (f.lfs) return crypto.createHash('sha256');
  const h = crypto.createHash('sha1');
  h.update(`blob ${f.size}\0`);
  return h;
}

/** The oid a file is stored and checked under. */
const oidOf = (f: HubFile): string => f.lfs?.oid ?? f.oid;

/**
 * A file of a commit in the cache: downloaded (or resumed) and verified if not there yet.
 * @returns the file in the commit's snapshot folder (a link to the verified blob; files of one folder stay side by side)
 */
export async function cachedFile(client: HubClient, repoDir: string, commit: string, f: HubFile, onProgress?: (p: DownloadProgress) => void): Promise<string> {
  const oid = oidOf(f);
  if (!/^[0-9a-f]{40,64}$/.test(oid)) throw new ModelError(`the Hub gave ${f.path} an invalid checksum (${oid})`);
  const blobs = path.join(repoDir, 'blobs');
  const blob = path.join(blobs, oid);
  const snapshot = path.join(repoDir, 'snapshots', commit, f.path);
  if (!fs.existsSync(blob)) {
    fs.mkdirSync(blobs, { recursive: true });
    const part = `${blob}.incomplete`;
    const h = hasher(f);
    let have = fs.existsSync(part) ? fs.statSync(part).size : 0;
    if (have > f.size) { fs.rmSync(part); have = 0; }
    if (have > 0) for await (const chunk of fs.createReadStream(part)) h.update(chunk as Buffer); // resume: hash what is there
    if (have < f.size) {
      const body = await client.openFile(f.path, commit, have);
      const fd = fs.openSync(part, 'a');
      try {
        let done = have;
        try {
          for await (const chunk of body) {
            const b = chunk as Uint8Array;
            if (done + b.length > f.size) throw new ModelError(`the Hub sent more than the ${f.size} bytes of ${f.path}`);
            writeAll(fd, b, part);
            h.update(b);
            done += b.length;
            onProgress?.({ file: f.path, bytes: done, total: f.size });
          }
        } catch (err) {
          if (err instanceof ModelError) throw err;
          const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
          throw new ModelError(`download of ${f.path} interrupted at ${done} of ${f.size} bytes (${cause}); run the command again to resume`);
        }
        if (done !== f.size) throw new ModelError(`download of ${f.path} ended at ${done} of ${f.size} bytes; run the command again to resume`);
      } finally {
        fs.closeSync(fd);
      }
    }
    const got = h.digest('hex');
    if (got !== oid) {
      fs.rmSync(part, { force: true });
      throw new ModelError(`checksum mismatch for ${f.path}: expected ${oid}, got ${got}; the download was deleted, run the command again`);
    }
    fs.renameSync(part, blob);
  }
  if (!fs.existsSync(snapshot)) {
    fs.mkdirSync(path.dirname(snapshot), { recursive: true });
    const tmp = `${snapshot}.${process.pid}.tmp`;
    fs.rmSync(tmp, { force: true });
    fs.symlinkSync(path.relative(path.dirname(snapshot), blob), tmp);
    fs.renameSync(tmp, snapshot);
  }
  return snapshot;
}

function writeAll(fd: number, b: Uint8Array, file: string): void {
  let off = 0;
  try {
    while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new ModelError('disk full while downloading; free some space and run the command again to resume', file);
    throw err;
  }
}

/** Record the commit a revision resolved to, for offline use. */
export function writeRef(repoDir: string, revision: string, commit: string): void {
  const ref = path.join(repoDir, 'refs', revision);
  fs.mkdirSync(path.dirname(ref), { recursive: true });
  fs.writeFileSync(`${ref}.tmp`, commit);
  fs.renameSync(`${ref}.tmp`, ref);
}

/** The cached commit of a revision (a commit hash is its own), or undefined. */
export function readRef(repoDir: string, revision: string): string | undefined {
  if (/^[0-9a-f]{40}$/.test(revision)) return fs.existsSync(path.join(repoDir, 'snapshots', revision)) ? revision : undefined;
  const ref = path.join(repoDir, 'refs', revision);
  return fs.existsSync(ref) ? fs.readFileSync(ref, 'utf8').trim() : undefined;
}
