/**
 * WAV decoding. wavefile parses the RIFF/RF64 chunk structure and the `fmt ` chunk; the sample data
 * is converted here, block by block, straight into one mono Float32Array, so a long file never
 * exists twice in memory as 64-bit samples (wavefile's getSamples would return a Float64Array per
 * channel). Multi-channel audio is downmixed by averaging the channels (what sox and ffmpeg's
 * `-ac 1` do).
 */
import fs from 'node:fs';
import wavefile from 'wavefile';
import { decodeSample as alawDecode } from 'wavefile/lib/codecs/alaw.js';
import { decodeSample as mulawDecode } from 'wavefile/lib/codecs/mulaw.js';
import { InputError } from '../errors.js';
import type { Waveform } from '../types.js';
import { MAX_CHANNELS, MAX_INPUT_RATE, MIN_INPUT_RATE } from './constants.js';

/** Sample encodings we decode. */
export type SampleEncoding = 'pcm' | 'float' | 'alaw' | 'mulaw';

/** What the header says, checked against the file size. */
export interface WavInfo {
  encoding: SampleEncoding;
  channels: number;
  sampleRate: number;
  /** Bits per sample of the container (8, 16, 24, 32 or 64). */
  bitsPerSample: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
  /** Sample frames (per channel) actually present in the file. */
  numFrames: number;
  /** Byte offset of the first sample and number of sample bytes present. */
  dataOffset: number;
  dataBytes: number;
}

/** Limits for reading a WAV file. */
export interface ReadWavOptions {
  /** Largest file accepted, in bytes (default 4 GiB; the RIFF limit). */
  maxBytes?: number;
  /** Longest audio accepted, in seconds (default 4 hours). */
  maxDurationSec?: number;
}

const FORMAT_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM', 0x0011: 'IMA ADPCM', 0x0031: 'GSM 6.10', 0x0040: 'G.721 ADPCM',
  0x0050: 'MPEG audio', 0x0055: 'MP3', 0x00ff: 'AAC', 0x0161: 'WMA', 0x1610: 'AAC', 0xf1ac: 'FLAC',
};
const CONVERT_HINT = 'convert it to PCM first, e.g. `sox in.wav -b 16 out.wav` or `ffmpeg -i in.wav -c:a pcm_s16le out.wav`';
// Streaming writers (ffmpeg to a pipe, crashed recorders) leave these in the data size field.
const UNKNOWN_SIZES = new Set([0, 0xffffffff]);
const HEAD_BYTES = 1 << 20; // enough for any real header; the rest is streamed
const BLOCK_FRAMES = 1 << 16;

type WaveFileHeader = {
  container: string;
  format: string;
  fmt: { audioFormat: number; numChannels: number; sampleRate: number; blockAlign: number;
    bitsPerSample: number; subformat?: number[] };
  ds64: { dataChunkSizeHigh: number; dataChunkSizeLow: number };
  fromBuffer(bytes: Uint8Array, samples?: boolean): void;
};

/**
 * Offset and declared size of the `data` chunk, walking the RIFF chunk list (id, 32-bit size,
 * payload padded to an even length). wavefile finds it too, but its published build does not
 * expose chunk offsets. Returns null when the chunk does not start within `head`.
 */
function findDataChunk(head: Uint8Array): { start: number; declared: number } | null {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  for (let off = 12; off + 8 <= head.length;) {
    const id = String.fromCharCode(head[off], head[off + 1], head[off + 2], head[off + 3]);
    const size = view.getUint32(off + 4, true);
    if (id === 'data') return { start: off + 8, declared: size };
    off += 8 + size + (size & 1);
  }
  return null;
}

/**
 * Parse and validate a WAV header.
 * @param head the first bytes of the file (all of it for small files)
 * @param fileSize total size of the file in bytes
 * @param file the path, for messages
 */
export function parseWavHeader(head: Uint8Array, fileSize: number, file?: string): WavInfo {
  if (head.length < 12) throw new InputError(`not a WAV file (only ${head.length} bytes)`, file);
  const magic = String.fromCharCode(head[0], head[1], head[2], head[3]);
  const wave = String.fromCharCode(head[8], head[9], head[10], head[11]);
  if (magic === 'RIFX' && wave === 'WAVE') {
    throw new InputError(`big-endian (RIFX) WAV is not supported; ${CONVERT_HINT}`, file);
  }
  if (!['RIFF', 'RF64'].includes(magic) || wave !== 'WAVE') {
    throw new InputError('not a WAV file (no RIFF/WAVE header)', file);
  }
  const wav = new wavefile.WaveFile() as unknown as WaveFileHeader;
  try {
    wav.fromBuffer(head, false);
  } catch (err) {
    const msg = (err as Error).message;
    if (/fmt/.test(msg)) throw new InputError('corrupt WAV header: no "fmt " chunk', file);
    if (/data/.test(msg)) throw new InputError('truncated or corrupt WAV file: no "data" chunk', file);
    throw new InputError(`corrupt WAV header (${msg})`, file);
  }
  const { fmt } = wav;
  let code = fmt.audioFormat;
  if (code === 0xfffe) {
    // WAVE_FORMAT_EXTENSIBLE: the real format code is the first two bytes of the subformat GUID.
    const sub = fmt.subformat;
    code = sub && sub.length > 0 ? sub[0] & 0xffff : 0;
  }
  const bits = fmt.bitsPerSample;
  let encoding: SampleEncoding;
  if (code === 1 && [8, 16, 24, 32].includes(bits)) encoding = 'pcm';
  else if (code === 3 && (bits === 32 || bits === 64)) encoding = 'float';
  else if (code === 6 && bits === 8) encoding = 'alaw';
  else if (code === 7 && bits === 8) encoding = 'mulaw';
  else if (code === 1 || code === 3) {
    throw new InputError(`unsupported ${code === 1 ? 'PCM' : 'float'} bit depth ${bits}; ${CONVERT_HINT}`, file);
  } else {
    const name = FORMAT_NAMES[code] ?? `format code 0x${code.toString(16).padStart(4, '0')}`;
    throw new InputError(`unsupported codec: ${name}; ${CONVERT_HINT}`, file);
  }
  const channels = fmt.numChannels;
  if (channels < 1 || channels > MAX_CHANNELS) {
    throw new InputError(`invalid channel count ${channels} in WAV header (expected 1 to ${MAX_CHANNELS})`, file);
  }
  const sampleRate = fmt.sampleRate;
  if (!(sampleRate >= MIN_INPUT_RATE && sampleRate <= MAX_INPUT_RATE)) {
    throw new InputError(`unsupported sample rate ${sampleRate} Hz (expected ${MIN_INPUT_RATE} to ${MAX_INPUT_RATE} Hz)`, file);
  }
  const blockAlign = channels * (bits / 8);
  if (fmt.blockAlign !== blockAlign) {
    throw new InputError(`corrupt WAV header: block align ${fmt.blockAlign} does not match ${channels} channel(s) of ${bits} bits`, file);
  }
  const chunk = findDataChunk(head);
  if (!chunk) throw new InputError('truncated or corrupt WAV file: no "data" chunk', file);
  const dataOffset = chunk.start;
  let declared = chunk.declared;
  if (magic === 'RF64') declared = wav.ds64.dataChunkSizeHigh * 2 ** 32 + wav.ds64.dataChunkSizeLow;
  const available = Math.max(0, fileSize - dataOffset);
  let dataBytes: number;
  if (UNKNOWN_SIZES.has(declared) && magic !== 'RF64') {
    dataBytes = available; // size never filled in: the data runs to the end of the file
  } else if (declared > available) {
    throw new InputError(`truncated WAV file: header declares ${declared} bytes of audio but the file holds ${available}`, file);
  } else {
    dataBytes = declared;
  }
  const numFrames = Math.floor(dataBytes / blockAlign);
  if (numFrames === 0) throw new InputError('WAV file contains no audio samples', file);
  return { encoding, channels, sampleRate, bitsPerSample: bits, blockAlign, numFrames, dataOffset, dataBytes: numFrames * blockAlign };
}

let g711Tables: { alaw: Float32Array; mulaw: Float32Array } | null = null;
function g711(): { alaw: Float32Array; mulaw: Float32Array } {
  if (!g711Tables) {
    const alaw = new Float32Array(256);
    const mulaw = new Float32Array(256);
    for (let b = 0; b < 256; b++) {
      alaw[b] = alawDecode(b) / 32768;
      mulaw[b] = mulawDecode(b) / 32768;
    }
    g711Tables = { alaw, mulaw };
  }
  return g711Tables;
}

/**
 * Convert `numFrames` interleaved sample frames starting at `bytes[0]` into mono samples
 * (channel average), written to out[outOffset ...].
 */
export function decodeFrames(
  out: Float32Array, outOffset: number, bytes: Uint8Array, numFrames: number, info: WavInfo,
): void {
  const { channels, encoding, bitsPerSample } = info;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inv = 1 / channels;
  const n = numFrames * channels;
  const le = true;
  let acc = 0;
  let c = 0;
  let o = outOffset;
  const emit = (v: number): void => {
    acc += v;
    if (++c === channels) {
      out[o++] = channels === 1 ? acc : acc * inv;
      acc = 0;
      c = 0;
    }
  };
  if (encoding === 'pcm' && bitsPerSample === 16) {
    for (let i = 0; i < n; i++) emit(view.getInt16(2 * i, le) / 32768);
  } else if (encoding === 'pcm' && bitsPerSample === 8) {
    for (let i = 0; i < n; i++) emit((bytes[i] - 128) / 128); // 8-bit WAV is unsigned
  } else if (encoding === 'pcm' && bitsPerSample === 24) {
    for (let i = 0; i < n; i++) {
      const j = 3 * i;
      const v = (bytes[j] | (bytes[j + 1] << 8) | (bytes[j + 2] << 16)) << 8 >> 8; // sign-extend
      emit(v / 8388608);
    }
  } else if (encoding === 'pcm' && bitsPerSample === 32) {
    for (let i = 0; i < n; i++) emit(view.getInt32(4 * i, le) / 2147483648);
  } else if (encoding === 'float' && bitsPerSample === 32) {
    for (let i = 0; i < n; i++) emit(view.getFloat32(4 * i, le));
  } else if (encoding === 'float') {
    for (let i = 0; i < n; i++) emit(view.getFloat64(8 * i, le));
  } else {
    const table = encoding === 'alaw' ? g711().alaw : g711().mulaw;
    for (let i = 0; i < n; i++) emit(table[bytes[i]]);
  }
}

/** Throw if a float WAV held NaN or Infinity; `offset` numbers the first sample of `samples`. */
export function checkFinite(samples: Float32Array, file?: string, offset = 0): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) {
      throw new InputError(`WAV file contains a non-finite sample (NaN or Infinity) at sample ${offset + i}`, file);
    }
  }
}

/** Decode a whole WAV file held in memory into mono samples at the file's own rate. */
export function decodeWav(bytes: Uint8Array, file?: string): Waveform {
  const info = parseWavHeader(bytes.subarray(0, HEAD_BYTES), bytes.length, file);
  const samples = new Float32Array(info.numFrames);
  decodeFrames(samples, 0, bytes.subarray(info.dataOffset, info.dataOffset + info.dataBytes), info.numFrames, info);
  if (info.encoding === 'float') checkFinite(samples, file);
  return { samples, sampleRate: info.sampleRate };
}

/** Read the header of a WAV file on disk (reads at most 1 MiB, or the whole file if the header needs it). */
export function readWavInfo(path: string, fd: number, fileSize: number): WavInfo {
  const headLen = Math.min(fileSize, HEAD_BYTES);
  const head = new Uint8Array(headLen);
  fs.readSync(fd, head, 0, headLen, 0);
  try {
    return parseWavHeader(head, fileSize, path);
  } catch (err) {
    // A header chunk after 1 MiB of other chunks (rare): parse the whole file instead.
    if (fileSize > headLen && err instanceof InputError && /no "(fmt |data)" chunk/.test(err.message)) {
      const all = new Uint8Array(fileSize);
      fs.readSync(fd, all, 0, fileSize, 0);
      return parseWavHeader(all, fileSize, path);
    }
    throw err;
  }
}

/** Open a file for reading, turning fs errors into one-line input errors. */
export function openForReading(path: string): number {
  try {
    const st = fs.statSync(path);
    if (st.isDirectory()) throw new InputError('is a directory, expected a WAV file', path);
    return fs.openSync(path, 'r');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('file not found', path);
    if (code === 'EACCES') throw new InputError('permission denied', path);
    throw new InputError(`cannot open (${code ?? (err as Error).message})`, path);
  }
}

/**
 * Decode the data chunk block by block. `visit(block, offset)` gets mono samples for frames
 * [offset, offset + block.length); `block` is reused between calls.
 */
export function forEachBlock(fd: number, info: WavInfo, visit: (block: Float32Array, offset: number) => void): void {
  const bytes = new Uint8Array(BLOCK_FRAMES * info.blockAlign);
  const block = new Float32Array(BLOCK_FRAMES);
  for (let frame = 0; frame < info.numFrames; frame += BLOCK_FRAMES) {
    const frames = Math.min(BLOCK_FRAMES, info.numFrames - frame);
    const want = frames * info.blockAlign;
    const got = fs.readSync(fd, bytes, 0, want, info.dataOffset + frame * info.blockAlign);
    if (got !== want) throw new InputError(`file changed or shrank while reading (wanted ${want} bytes, got ${got})`);
    decodeFrames(block, 0, bytes, frames, info);
    visit(frames === BLOCK_FRAMES ? block : block.subarray(0, frames), frame);
  }
}
