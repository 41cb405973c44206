/** Child process for bench/features: peak memory of loadAudio + features on one file. */
import fs from 'node:fs';
import { loadAudio } from '../lib/audio/index.js';
import { getExtractor } from '../lib/features/index.js';

const hwmMB = (): number => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const [file, preset] = process.argv.slice(2);
const ex = getExtractor(preset);
const baselineMB = hwmMB();
const t0 = performance.now();
const audio = loadAudio(file);
const f = ex.compute(audio);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ baselineMB, peakMB: hwmMB(), decodedMB: audio.samples.byteLength / 2 ** 20, featuresMB: f.data.byteLength / 2 ** 20, seconds }) + '\n');
