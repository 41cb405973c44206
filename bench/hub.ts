/**
 * bench/hub: `models pull` from a local server that speaks the Hub's protocol (test/helpers/hub-server.ts),
 * and `rank` on the bundled Scottish test data.
 *   - pull: a repo in our own format plus a 400 MB file, in a child process: wall time, MB/s and the
 *     child's peak RSS (the download streams through a fixed buffer; the target is under 150 MB); then
 *     the same pull again from the cache (no download);
 *   - rank: base-en and two test models (the tiny random-weight `features` model and a pulled tiny
 *     wav2vec2 CTC model), 5 minutes asked (the whole 2.6-minute test set), with the adaptation probe.
 * Usage: node dist/bench/hub.js
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pullModel } from '../lib/hub/pull.js';
import { rankModels } from '../lib/train/rank.js';
import { startHubServer } from '../test/helpers/hub-server.js';
import { machine, table } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'hub');

/** The child: pull and print {seconds, maxRssMB} as JSON. */
async function child(): Promise<void> {
  const [repo, endpoint, modelsDir, cacheDir, name] = process.argv.slice(3);
  const t0 = performance.now();
  await pullModel({ repo, endpoint, modelsDir, cacheDir, name, offline: false, force: true });
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

export async function benchHub(): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-hub-'));
  const hub = await startHubServer(FIX);
  try {
    // A 400 MB file in a repo of our own format (pulled whole), written in 1 MB blocks.
    const big = path.join(tmp, 'big.bin');
    const fd = fs.openSync(big, 'w');
    const block = Buffer.alloc(1 << 20);
    for (let i = 0; i < 400; i++) { block.fill(i & 255); fs.writeSync(fd, block); }
    fs.closeSync(fd);
    const files = new Map(fs.readdirSync(path.join(FIX, 'ours')).map((f) => [f, path.join(FIX, 'ours', f)]));
    files.set('big.bin', big);
    hub.extra.set('test/big', files);
    // The server runs in this process, the pull in a child: spawnSync would block the server, so run the child asynchronously.
    const runAsync = (name: string) => new Promise<{ seconds: number; maxRssMB: number }>((resolve, reject) => {
      execFile(process.execPath, [fileURLToPath(import.meta.url), '--child', 'test/big', hub.url, path.join(tmp, 'models'), path.join(tmp, 'cache'), name], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`pull failed: ${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      });
    });
    const cold = await runAsync('big');
    const warm = await runAsync('big2');
    const mb = 400 + 0.04;

    // rank: base-en, the tiny features model and a pulled tiny wav2vec2 CTC model.
    const pulled = await pullModel({ repo: 'test/wav2vec2-ctc', endpoint: hub.url, modelsDir: path.join(tmp, 'models'), cacheDir: path.join(tmp, 'cache'), offline: false });
    const t0 = performance.now();
    const r = await rankModels({ data: path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test'), models: ['base-en', path.join(ROOT, 'test', 'fixtures', 'encoders', 'ours-top'), pulled.model.dir], minutes: 5 });
    const rankSec = (performance.now() - t0) / 1000;
    const pct = (x?: number): string => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
    return [
      '## Models from the Hub and choosing one (`bench/hub`)', '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}. Command: \`npm run build && node dist/bench/hub.js\`. The server is test/helpers/hub-server.ts on loopback (the Hub's resolve, redirect, Range and tree-listing protocol), so these are the toolkit's costs, not the network's.`, '',
      table(['pull of a 400 MB repo', 'wall s', 'MB/s', 'peak RSS of the process (MB)'], [
        ['first pull (download, sha256, install)', cold.seconds.toFixed(1), (mb / cold.seconds).toFixed(0), cold.maxRssMB.toFixed(0)],
        ['second pull (from the cache, no download)', warm.seconds.toFixed(1), '-', warm.maxRssMB.toFixed(0)],
      ]), '',
      `Target: peak RSS under 150 MB for a 400 MB file: ${cold.maxRssMB < 150 ? 'met' : 'MISSED'}.`, '',
      `\`rank\` on the bundled Scottish test set (${r.sample.utterances} utterances, ${r.sample.minutes.toFixed(1)} min, adaptation probe on), ${rankSec.toFixed(0)} s in all:`, '',
      table(['model', 'WER', 'CER', 'RTF', 'size MB', 'probe dev WER base -> adapted', 'guard', 'expected WER'], r.rows.map((x) => [x.model, pct(x.wer), pct(x.cer), x.rtf?.toFixed(3) ?? '-', x.sizeMB.toFixed(1), x.probe ? `${pct(x.probe.devBaseWer)} -> ${pct(x.probe.devAdaptedWer)}` : '-', x.probe ? (x.probe.accepted ? 'accepted' : 'not accepted') : '-', pct(x.expectedWer)])), '',
      `Recommendation: ${r.recommendation?.model}: ${r.recommendation?.reason}`, '',
    ].join('\n');
  } finally {
    await hub.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (process.argv[2] === '--child') await child();
  else process.stdout.write(await benchHub() + '\n');
}
