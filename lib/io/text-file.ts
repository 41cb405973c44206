/** Text files that may be gzipped (language models, pronunciation dictionaries), read whole. */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { InputError } from '../errors.js';

/** The file's text; gzip is recognised by its magic bytes. `what` names the file in errors ("language model"). */
export function readMaybeGzipped(file: string, what: string): string {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw new InputError(`cannot read ${what} (${(err as NodeJS.ErrnoException).code})`, file);
  }
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      data = zlib.gunzipSync(data);
    } catch {
      throw new InputError(`corrupt gzip data in ${what}`, file);
    }
  }
  return data.toString('utf8');
}
