/**
 * bench/transcribe: the bundled model end to end. Real-time factor of transcription on one thread
 * (greedy; the default beam + LM + lexicon), streaming latency (time from a 100 ms chunk arriving to the partial
 * result that includes it), and beam + LM against greedy WER on the bundled Scottish test set.
 * Usage: node dist/bench/transcribe.js
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateVariants } from '../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../lib/pipeline/recognizer.js';
import { machine, median, table, writeWav16 } from './common.js';
import { speechMinute } from './features.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function benchTranscribe(quick = false): Promise<string> {
  const { samples, source } = speechMinute();
  const audio = { samples, sampleRate: 16000 };
  const rows: string[][] = [];
  for (const threads of [1, os.cpus().length]) {
    const rec = await loadRecognizer({ model: 'base-en', threads });
    try {
      for (const [label, opts] of [[rec.pronunciations ? `${rec.decodingName(rec.withoutLm)} (--no-lm)` : 'greedy (--beam 1 --no-lm)', rec.withoutLm], [`${rec.decodingName()} (default)`, {}]] as const) {
        await rec.transcribe(audio, opts);
        const ts: number[] = [];
        for (let i = 0; i < (quick ? 1 : 3); i++) {
          const t0 = performance.now();
          await rec.transcribe(audio, opts);
          ts.push((performance.now() - t0) / 1000);
        }
        rows.push([label, String(threads), (median(ts) / 60).toFixed(4)]);
      }
    } finally {
      await rec.release();
    }
  }
  // Streaming: 100 ms chunks; latency = compute time of the update each chunk triggers, plus the
  // audio waited for before an update is due (updates every 0.2 s).
  const rec = await loadRecognizer({ model: 'base-en', threads: 1 });
  const lat: number[] = [];
  try {
    const stream = rec.createStream();
    for (let i = 0; i < samples.length; i += 1600) {
      const t0 = performance.now();
      const p = await stream.acceptWaveform(samples.subarray(i, i + 1600));
      if (p) lat.push((performance.now() - t0) / 1000);
    }
    await stream.finish();
  } finally {
    await rec.release();
  }
  lat.sort((a, b) => a - b);
  const p95 = lat[Math.floor(0.95 * (lat.length - 1))], worst = lat[lat.length - 1];
  // Beam + LM against greedy on the Scottish test set.
  const rec2 = await loadRecognizer({ model: 'base-en', threads: os.cpus().length });
  const test = path.join(ROOT, 'audio-fixtures', 'accents', 'scottish', 'test');
  const [greedy, beam] = await evaluateVariants(rec2, test, [rec2.withoutLm, {}]);
  const minute = (await rec2.transcribe(audio)).words.length; // for the 1-hour check below
  const defaultDecoding = rec2.decodingName();
  await rec2.release();
  // One hour through the CLI: chunked encoding keeps memory bounded.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-tr-'));
  let hour = 'skipped (--quick)';
  if (!quick) {
    const file = path.join(tmp, 'hour.wav');
    writeWav16(file, samples, 60);
    const t0 = performance.now();
    const timed = fs.existsSync('/usr/bin/time');
    const args = [path.join(ROOT, 'dist', 'bin', 'adapt-asr.js'), 'transcribe', file, '--format', 'json', '--threads', String(os.cpus().length)];
    const r = timed ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 }) : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    const sec = (performance.now() - t0) / 1000;
    const out = r.status === 0 ? (JSON.parse(r.stdout) as { words: Array<{ start: number }> }).words : [];
    const inOrder = out.every((w, i) => i === 0 || w.start >= out[i - 1].start);
    const lastMinute = out.filter((w) => w.start >= 3540).length;
    hour = r.status === 0
      ? `${sec.toFixed(0)} s wall (RTF ${(sec / 3600).toFixed(3)}), peak memory ${timed ? (Number(r.stderr.trim().split('\n').pop()) / 1024).toFixed(0) + ' MB' : 'n/a'}; `
        + `${out.length} words out (the minute alone gives ${minute}; 60x would be ${60 * minute}), words in time order: ${inOrder ? 'yes' : 'NO'}, last minute ${lastMinute} words`
      : `FAILED: ${r.stderr.slice(-300)}`;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const p = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const date = new Date().toISOString().slice(0, 10);
  return [
    '## Transcription (`bench/transcribe`)', '',
    `Measured ${date} on ${machine()}. Command: \`npm run build && node dist/bench/transcribe.js\`. Model: models/base-en. Audio: 60 s (${source}).`, '',
    table(['decoding', 'threads', 'real-time factor (encode + head + decode)'], rows),
    '', 'Targets on one thread: RTF <= 0.05 greedy, <= 0.1 with beam search and an LM.', '',
    `Streaming (100 ms chunks, a partial result every 0.2 s of audio, window <= 10 s, one thread): ${lat.length} partial results; compute per update median ${(1000 * median(lat)).toFixed(0)} ms, `
      + `95th percentile ${(1000 * p95).toFixed(0)} ms, worst ${(1000 * worst).toFixed(0)} ms. So a partial result covers audio at most 0.2 s + ${(1000 * worst).toFixed(0)} ms = ${(200 + 1000 * worst).toFixed(0)} ms old (target 500 ms).`, '',
    `A 1-hour WAV (the 60 s of speech above looped 60 times; 16 kHz mono 16-bit, 110 MiB) through \`adapt-asr transcribe --format json\` with default decoding (${defaultDecoding}, decoded in <= 30 s segments cut in pauses): ${hour}.`, '',
    `Scottish test set (${greedy.utterances} utterances, unseen voices, no adapter): ${rec2.decodingName(rec2.withoutLm)} WER ${p(greedy.wer)} (CER ${p(greedy.cer)}); ${defaultDecoding} WER ${p(beam.wer)} (CER ${p(beam.cer)}). The LM excludes every test sentence.`, '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write((await benchTranscribe(process.argv.includes('--quick'))) + '\n');
}
