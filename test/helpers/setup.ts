/**
 * Mocha root hooks (loaded by .mocharc.json): every test run gets its own empty encoding cache in a
 * temporary folder, so tests never read or fill the user's ~/.cache/adapt-asr.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const own = !process.env.ADAPT_ASR_CACHE;
const dir = own ? fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-test-cache-')) : process.env.ADAPT_ASR_CACHE!;
process.env.ADAPT_ASR_CACHE = dir;

export const mochaHooks = {
  afterAll(): void {
    if (own) fs.rmSync(dir, { recursive: true, force: true });
  },
};
