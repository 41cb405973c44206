/**
 * bench/features: feature extraction speed per preset (one thread), WAV decoding and resampling
 * speed, peak memory on 1-hour files, and parity with the Python references on real speech.
 * Usage: node dist/bench/features.js [--quick]   (part of `npm run bench`)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAudio } from '../lib/audio/index.js';
import { getExtractor, PRESET_NAMES } from '../lib/features/index.js';
import { readNpy } from '../lib/io/npy.js';
import { machine, median, table, timeMs, writeWav16 } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KATHLEEN = path.resolve(ROOT, '..', 'shared', 'corpora', 'real', 'en-US_kathleen');

/** Write a WAV file of `seconds` of speech-like noise without holding it in memory. */
export function writeLongWav(file: string, seconds: number, rate: number, channels: number, bits: 16 | 24): void {
  const frames = Math.round(seconds * rate);
  const block = channels * (bits / 8);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0); head.writeUInt32LE(36 + frames * block, 4); head.write('WAVE', 8);
  head.write('fmt ', 12); head.writeUInt32LE(16, 16); head.writeUInt16LE(1, 20); head.writeUInt16LE(channels, 22);
  head.writeUInt32LE(rate, 24); head.writeUInt32LE(rate * block, 28); head.writeUInt16LE(block, 32); head.writeUInt16LE(bits, 34);
  head.write('data', 36); head.writeUInt32LE(frames * block, 40);
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, head);
  const chunkFrames = rate * 10;
  const buf = Buffer.alloc(chunkFrames * block);
  let seed = 1;
  for (let f = 0; f < frames; f += chunkFrames) {
    const n = Math.min(chunkFrames, frames - f);
    for (let i = 0; i < n * channels; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const t = (f + Math.floor(i / channels)) / rate;
      const v = 0.3 * Math.sin(2 * Math.PI * 220 * t) * Math.sin(2 * Math.PI * 3 * t) + 0.05 * (seed / 0x7fffffff - 0.5);
      if (bits === 16) buf.writeInt16LE(Math.round(v * 32767), 2 * i);
      else buf.writeIntLE(Math.round(v * 8388607), 3 * i, 3);
    }
    fs.writeSync(fd, buf, 0, n * block);
  }
  fs.closeSync(fd);
}

export function speechMinute(): { samples: Float32Array; source: string } {
  const target = 60 * 16000;
  const out = new Float32Array(target);
  let filled = 0;
  let source = 'synthetic chirp + noise fixture, looped';
  if (fs.existsSync(KATHLEEN)) {
    source = 'real speech: ../shared/corpora/real/en-US_kathleen, concatenated';
    for (const f of fs.readdirSync(KATHLEEN).filter((f) => f.endsWith('.wav')).sort()) {
      const a = loadAudio(path.join(KATHLEEN, f)).samples;
      const n = Math.min(a.length, target - filled);
      out.set(a.subarray(0, n), filled);
      filled += n;
      if (filled === target) break;
    }
  }
  const loop = loadAudio(path.join(ROOT, 'audio-fixtures', 'chirp-noise-16k.wav')).samples;
  while (filled < target) {
    const n = Math.min(loop.length, target - filled);
    out.set(loop.subarray(0, n), filled);
    filled += n;
  }
  return { samples: out, source };
}

function speed(quick: boolean): string {
  const { samples, source } = speechMinute();
  const rows = PRESET_NAMES.map((p) => {
    const ex = getExtractor(p);
    const out = new Float32Array(ex.numFrames(samples.length) * ex.config.nMels);
    const ms = timeMs(() => ex.compute({ samples, sampleRate: 16000 }, out), quick ? 3 : 7, 2);
    return [p, (ms / 60).toFixed(3), `${(60 / (ms / 1000)).toFixed(0)}x`, (ms / ex.numFrames(samples.length) * 1000).toFixed(1)];
  });
  return `Audio: 60 s, ${source}. Median of ${quick ? 3 : 7} runs after 2 warm-up runs, one thread, features only (no file I/O).\n\n`
    + table(['preset', 'ms per s of audio', 'real-time factor (audio s / s)', 'us per frame'], rows);
}

function decoding(tmp: string): string {
  const rows: string[][] = [];
  for (const [rate, ch, bits] of [[16000, 1, 16], [44100, 2, 24], [48000, 2, 16], [8000, 1, 16]] as const) {
    const file = path.join(tmp, `dec-${rate}-${ch}-${bits}.wav`);
    writeLongWav(file, 60, rate, ch, bits);
    const ms = timeMs(() => loadAudio(file), 5, 1);
    rows.push([`${rate} Hz, ${ch} ch, ${bits}-bit`, rate === 16000 ? 'no' : 'yes', `${(60 / (ms / 1000)).toFixed(0)}x`]);
  }
  return 'loadAudio (read, decode, downmix, resample to 16 kHz) of a 60 s file, median of 5:\n\n'
    + table(['input', 'resampled', 'real-time factor'], rows);
}

function memory(tmp: string): string {
  const rows: string[][] = [];
  for (const [rate, ch, bits] of [[16000, 1, 16], [44100, 2, 24]] as const) {
    const file = path.join(tmp, `hour-${rate}-${ch}.wav`);
    writeLongWav(file, 3600, rate, ch, bits);
    const script = path.join(ROOT, 'dist', 'bench', 'features-memory.js');
    const r = spawnSync(process.execPath, [script, file, 'whisper-80'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`memory run failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout) as { baselineMB: number; peakMB: number; decodedMB: number; featuresMB: number; seconds: number };
    const fileMB = fs.statSync(file).size / 2 ** 20;
    rows.push([`${rate} Hz, ${ch} ch, ${bits}-bit (${fileMB.toFixed(0)} MiB file)`, m.decodedMB.toFixed(0), m.featuresMB.toFixed(0),
      (m.peakMB - m.baselineMB).toFixed(0), ((m.peakMB - m.baselineMB) / m.decodedMB).toFixed(2), m.seconds.toFixed(1)]);
    fs.rmSync(file);
  }
  return '1-hour WAV through loadAudio + whisper-80 in a fresh process; peak RSS above the process baseline (VmHWM):\n\n'
    + table(['input', 'decoded 16 kHz MiB', 'features MiB', 'peak extra RSS MiB', 'peak / decoded', 'wall s'], rows);
}

function parity(tmp: string): string {
  if (!fs.existsSync(KATHLEEN)) return 'Real-speech parity: skipped (../shared/corpora/real/en-US_kathleen not present).';
  const py = '/usr/bin/python3';
  const check = spawnSync(py, ['-c', 'import torch, torchaudio'], { encoding: 'utf8' });
  if (check.status !== 0) return 'Real-speech parity: skipped (needs Debian python3-torch and python3-torchaudio).';
  const files = fs.readdirSync(KATHLEEN).filter((f) => f.endsWith('.wav')).sort().filter((_, i) => i % 56 === 0).map((f) => path.join(KATHLEEN, f));
  const r = spawnSync(py, [path.join(ROOT, 'bench', 'reference_features.py'), tmp, ...files], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reference features failed: ${r.stderr}`);
  const refs: [string, string][] = [['whisper-80', 'whisper-80'], ['whisper-128', 'whisper-128'], ['kaldi-fbank-80', 'kaldi-fbank-80'], ['kaldi-fbank-80', 'kaldi-fbank-80.f64']];
  let refNoise = 0; // torchaudio float32 vs its own float64 run: the reference's rounding noise
  const rows = refs.map(([preset, ref]) => {
    let worst = 0;
    for (const f of files) {
      const name = path.basename(f, '.wav');
      const ours = getExtractor(preset).compute(loadAudio(f));
      const g = readNpy(path.join(tmp, `${name}.${ref}.npy`));
      if (g.data.length !== ours.data.length) throw new Error(`${name} ${ref}: ${g.shape} vs ${ours.numFrames}x${ours.dim}`);
      worst = Math.max(worst, maxDiff(g.data, ours.data));
      if (ref === 'kaldi-fbank-80') refNoise = Math.max(refNoise, maxDiff(g.data, readNpy(path.join(tmp, `${name}.kaldi-fbank-80.f64.npy`)).data));
    }
    const tol = preset.startsWith('whisper') ? 1e-3 : 2e-3;
    const refName = ref.endsWith('.f64') ? 'torchaudio kaldi.fbank, float64 run' : preset.startsWith('whisper') ? 'openai/whisper log_mel_spectrogram (torch)' : 'torchaudio kaldi.fbank (float32)';
    return [preset, refName, worst.toExponential(2), tol.toExponential(0), worst <= tol ? 'met' : 'MISSED'];
  });
  return `Parity on real speech: ${files.length} Kathleen recordings (every 56th file, ${files.map((f) => path.basename(f, '.wav')).join(', ')}); max |ours - reference| over all frames and bands:\n\n`
    + table(['preset', 'reference', 'max abs diff', 'target', ''], rows)
    + `\n\nThe float32 torchaudio reference differs from its own float64 run by up to ${refNoise.toExponential(2)} on the same files: `
    + 'that is rounding noise of its float32 FFT in weak bands, and it bounds how close any implementation can get to it. '
    + 'Against the float64 run, which removes that noise, ours agrees to the figure in the last row.';
}

/**
 * The peers on the same minute of audio in the same run: openai/whisper's log-mel and torchaudio's
 * Kaldi fbank (PyTorch, one thread) and the WhisperFeatureExtractor of @huggingface/transformers
 * (transformers.js, built from a config object, no download).
 */
export async function peers(tmp: string, quick: boolean): Promise<string> {
  const { samples: raw, source } = speechMinute();
  const file = path.join(tmp, 'minute.wav');
  writeWav16(file, raw, 1);
  const audio = loadAudio(file); // the 16-bit samples every implementation sees
  const runs = quick ? 3 : 7;
  const ours: Record<string, number> = {};
  for (const p of ['whisper-80', 'kaldi-fbank-80', 'sphinx-mfcc-13']) {
    const ex = getExtractor(p);
    const out = new Float32Array(ex.numFrames(audio.samples.length) * ex.dim);
    ours[p] = timeMs(() => ex.compute(audio, out), runs, 2) / 1000;
  }
  const rows: string[][] = [];
  const row = (impl: string, preset: string, sec: number, diff: string): void => {
    rows.push([impl, preset, `${(60 / sec).toFixed(0)}x`, (sec / ours[preset]).toFixed(2), diff]);
  };
  row('adapt-asr (TypeScript)', 'whisper-80', ours['whisper-80'], '-');
  row('adapt-asr (TypeScript)', 'kaldi-fbank-80', ours['kaldi-fbank-80'], '-');
  row('adapt-asr (TypeScript)', 'sphinx-mfcc-13', ours['sphinx-mfcc-13'], '-');
  rows.push(sphinxFe(file, tmp, audio, runs, ours['sphinx-mfcc-13']));
  const py = spawnSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'reference_speed.py'), file, String(runs)], { encoding: 'utf8' });
  if (py.status === 0) {
    const t = JSON.parse(py.stdout) as Record<string, number>;
    row('openai/whisper log_mel_spectrogram (PyTorch 1 thread)', 'whisper-80', t['whisper-80'], 'parity table below');
    row('torchaudio compliance.kaldi.fbank (PyTorch 1 thread)', 'kaldi-fbank-80', t['kaldi-fbank-80'], 'parity table below');
  } else {
    rows.push(['PyTorch references', '-', 'skipped (needs Debian python3-torch, python3-torchaudio)', '-', '-']);
  }
  try {
    const { WhisperFeatureExtractor } = await import('@huggingface/transformers');
    // One 60 s call: n_samples and nb_max_frames raised from Whisper's 30 s so that nothing is padded or cut.
    const fe = new WhisperFeatureExtractor({ feature_size: 80, sampling_rate: 16000, hop_length: 160, n_fft: 400, n_samples: audio.samples.length, nb_max_frames: 6000 });
    const run = async (): Promise<Float32Array> => (await fe._call(audio.samples)).input_features.data as Float32Array;
    await run(); await run();
    const ts: number[] = [];
    let hf: Float32Array = new Float32Array(0);
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      hf = await run();
      ts.push((performance.now() - t0) / 1000);
    }
    const mine = getExtractor('whisper-80').compute(audio);
    const F = Math.min(mine.numFrames, hf.length / 80);
    let diff = 0;
    for (let t = 0; t < F; t++) for (let m = 0; m < 80; m++) diff = Math.max(diff, Math.abs(mine.data[t * 80 + m] - hf[m * (hf.length / 80) + t]));
    row('@huggingface/transformers WhisperFeatureExtractor (JS)', 'whisper-80', median(ts), diff.toExponential(2));
  } catch (e) {
    rows.push(['@huggingface/transformers', '-', `skipped (${(e as Error).message.split('\n')[0]})`, '-', '-']);
  }
  return `Against the peers, same 60 s of audio (${source}, as 16-bit WAV), same run, one thread each, median of ${runs} runs after 2 warm-ups:\n\n`
    + table(['implementation', 'preset', 'audio s / s', 'time / ours', 'max abs diff to ours'], rows);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** sphinxbase's own front end (Debian sphinxbase-utils' `sphinx_fe`, a C program, one process) on the same file. */
function sphinxFe(file: string, tmp: string, audio: { samples: Float32Array; sampleRate: number }, runs: number, oursSec: number): string[] {
  const args = ['-i', file, '-o', path.join(tmp, 'minute.mfc'), '-mswav', 'yes', '-nfilt', '25', '-lowerf', '130', '-upperf', '6800',
    '-transform', 'dct', '-lifter', '22', '-remove_noise', 'no', '-remove_silence', 'no', '-dither', 'no'];
  if (spawnSync('sphinx_fe', args, { stdio: 'ignore' }).status !== 0) return ['sphinx_fe (sphinxbase, C)', 'sphinx-mfcc-13', 'skipped (needs Debian sphinxbase-utils)', '-', '-'];
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    spawnSync('sphinx_fe', args, { stdio: 'ignore' });
    ts.push((performance.now() - t0) / 1000); // the whole process: start, WAV read, MFCC, file write
  }
  const b = fs.readFileSync(path.join(tmp, 'minute.mfc'));
  const ref = new Float32Array(b.buffer.slice(b.byteOffset + 4, b.byteOffset + 4 + 4 * b.readInt32LE(0)));
  const mine = getExtractor('sphinx-mfcc-13').compute(audio);
  const sec = median(ts);
  return ['sphinx_fe (sphinxbase, C; whole process)', 'sphinx-mfcc-13', `${(60 / sec).toFixed(0)}x`, (sec / oursSec).toFixed(2), maxDiff(mine.data, ref).toExponential(2)];
}

export async function benchFeatures(quick = false): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-'));
  try {
    const date = new Date().toISOString().slice(0, 10);
    return [
      '## Feature extraction (`bench/features`)', '',
      `Measured ${date} on ${machine()}. Command: \`npm run build && node dist/bench/features.js\`.`, '',
      speed(quick), '', await peers(tmp, quick), '', decoding(tmp), '', memory(tmp), '', parity(tmp), '',
    ].join('\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write((await benchFeatures(process.argv.includes('--quick'))) + '\n');
}
