/** sha256 of a file, read in 1 MiB blocks. */
import crypto from 'node:crypto';
import fs from 'node:fs';

/** One block buffer for every call (the function is synchronous): hashing many small files allocates nothing. */
let block: Buffer | undefined;

export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = (block ??= Buffer.allocUnsafe(1 << 20));
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
