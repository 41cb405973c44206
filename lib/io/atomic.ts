/** Atomic file output: write to a temporary file beside the target, then rename over it. */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';

/**
 * Write `chunks` to `target` so that `target` is either absent/old or complete, never half-written.
 * The temporary file is removed if anything fails.
 */
export function writeFileAtomic(target: string, chunks: Uint8Array | Uint8Array[]): void {
  const dir = path.dirname(path.resolve(target));
  if (!fs.existsSync(dir)) throw new InputError(`output folder does not exist: ${dir}`, target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w');
    for (const c of Array.isArray(chunks) ? chunks : [chunks]) {
      let off = 0;
      while (off < c.byteLength) off += fs.writeSync(fd, c, off, c.byteLength - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new InputError(`cannot write (${code})`, target);
    throw err;
  }
}

/**
 * Put the finished folder `tmp` in place of `target`: an existing target is moved aside to `old`
 * first and removed only once the new folder is in place, so `target` is always whole, old or new.
 */
export function replaceFolder(tmp: string, target: string, old = `${tmp}.old`): void {
  if (fs.existsSync(target)) {
    fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(tmp, target);
  }
}
