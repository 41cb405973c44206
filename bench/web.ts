/**
 * The browser build against Node on the same export and file: bundle and download sizes, load time
 * and real-time factor in headless Chromium (Debian's chromium through puppeteer-core), and the real-time factor
 * of the same export in Node (onnxruntime-node). 
 *
 *   node dist/bench/web.js        (also: npm run bench -- --only web)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { serveStatic } from '../examples/web/static-server.js';
import { exportModel } from '../lib/export/export.js';
import { loadAudio } from '../lib/audio/index.js';
import { loadRecognizer } from '../lib/pipeline/recognizer.js';
import { machine, table } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WAVS = ['speech-en-gb-f3-16k.wav', 'speech-en-us-16k.wav'].map((f) => path.join(ROOT, 'audio-fixtures', f));

export async function benchWeb(): Promise<string> {
  const exe = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
  if (!exe) return '## In the browser (`bench/web`)\n\nNot measured: no Chromium on this machine (apt-get install chromium).';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-web-'));
  const rows: (string | number)[][] = [];
  try {
    fs.mkdirSync(path.join(dir, 'x'));
    for (const model of ['base-en', 'base-en-real']) exportModel({ model, out: path.join(dir, 'x', model) });
    const site = await serveStatic(path.join(dir, 'x'));
    const browser = await puppeteer.launch({ executablePath: exe, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      for (const model of ['base-en', 'base-en-real']) {
        const bytes = fs.readdirSync(path.join(dir, 'x', model)).filter((f) => f !== 'export.json').reduce((a, f) => a + fs.statSync(path.join(dir, 'x', model, f)).size, 0);
        const node = await loadRecognizer({ model: path.join(dir, 'x', model), threads: 1 });
        for (const wav of WAVS) {
          const page = await browser.newPage();
          await page.goto(`${site.url}?model=${model}`);
          await page.waitForFunction("['ready', 'error'].includes(document.getElementById('status').textContent)", { timeout: 180000 });
          // Twice: the first run pays for compiling the graph's kernels; the second is the steady state.
          const input = await page.$('#file');
          const up = input as unknown as { uploadFile(p: string): Promise<void> };
          const results: { rtf: number; text: string }[] = [];
          for (let k = 0; k < 2; k++) {
            await page.evaluate("window.adaptAsr.last = undefined; document.getElementById('file').value = ''");
            await up.uploadFile(wav);
            await page.waitForFunction('window.adaptAsr.last || window.adaptAsr.error', { timeout: 180000 });
            results.push((await page.evaluate('window.adaptAsr.last')) as { rtf: number; text: string });
          }
          const loadMs = (await page.evaluate('window.adaptAsr.loadMs')) as number;
          await page.close();
          const audio = loadAudio(wav);
          await node.transcribe(audio);
          const t0 = performance.now();
          const t = await node.transcribe(audio);
          const nodeRtf = (performance.now() - t0) / 1000 / t.duration;
          rows.push([model, path.basename(wav), t.duration.toFixed(1), (bytes / 2 ** 20).toFixed(1), (loadMs / 1000).toFixed(1), results[0].rtf.toFixed(3), results[1].rtf.toFixed(3), nodeRtf.toFixed(3), results[1].text === t.text ? 'yes' : 'no']);
        }
        await node.release();
      }
    } finally {
      await browser.close();
      await site.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const web = path.join(ROOT, 'dist', 'web');
  const size = (f: string): string => `${(fs.statSync(path.join(web, f)).size / 2 ** 10).toFixed(0)} KB`;
  return [
    '## In the browser (`bench/web`)', '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} by \`node dist/bench/web.js\`: the example page (examples/web) in headless Chromium (${exe}, puppeteer-core), onnxruntime-web's WebAssembly backend on 1 thread, the page and exports served from 127.0.0.1; Node: onnxruntime-node on 1 thread, same export, same file. Both decode with the model's default beam search, LM and dictionary.`, '',
    `Bundle: \`dist/web/adapt-asr.web.js\` ${size('adapt-asr.web.js')} (minified ES module: features, decoding, LM, dictionary, onnxruntime-web's JavaScript), \`ort-wasm-simd-threaded.wasm\` ${size('ort-wasm-simd-threaded.wasm')}, page code \`app.js\` ${size('app.js')}.`, '',
    table(['export', 'file', 'audio s', 'download MB', 'load s (fetch, parse LM and dictionary, create session)', 'RTF Chromium, first', 'RTF Chromium', 'RTF Node', 'same text as Node'], rows),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) process.stdout.write(await benchWeb() + '\n');
