/**
 * lm.json beside a built LM: how it was made (build.sh's settings, prepare-text.ts's counts) and the n-gram counts
 * its ARPA header declares. The model card's LM line is written from it.
 * Usage: node dist/recipes/lm/record.js ARPA_GZ TEXT_INFO_JSON OUT_JSON ORDER PRUNE "LM_TEXT_ARGS"
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { arpaHeader } from '../../lib/decode/arpa.js';

const [arpa, info, out, order, prune, args] = process.argv.slice(2);
// The header is in the first few hundred bytes; the counts are all that is read here.
const { counts } = arpaHeader(zlib.gunzipSync(fs.readFileSync(arpa)).toString('latin1', 0, 4096).split('\n'), arpa);
const rec = {
  date: new Date().toISOString().slice(0, 10),
  command: `${args ? `LM_TEXT_ARGS="${args}" ` : ''}LM_ORDER=${order} LM_PRUNE=${prune} bash recipes/lm/build.sh`,
  order: Number(order), prune: prune === '1', ngrams: counts, ...JSON.parse(fs.readFileSync(info, 'utf8')),
};
fs.writeFileSync(`${out}.tmp`, JSON.stringify(rec, null, 1) + '\n');
fs.renameSync(`${out}.tmp`, out);
