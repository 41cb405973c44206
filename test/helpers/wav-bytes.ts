/** Build small WAV files in memory for tests. */

export function wavBytes(opts: { format?: number; channels: number; rate: number; bits: number; data: Uint8Array }): Uint8Array {
  const { format = 1, channels, rate, bits, data } = opts;
  const block = (channels * bits) / 8;
  const buf = new Uint8Array(44 + data.length);
  const v = new DataView(buf.buffer);
  const str = (o: number, s: string): void => { for (let i = 0; i < 4; i++) buf[o + i] = s.charCodeAt(i); };
  str(0, 'RIFF'); v.setUint32(4, 36 + data.length, true); str(8, 'WAVE');
  str(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, format, true); v.setUint16(22, channels, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * block, true); v.setUint16(32, block, true); v.setUint16(34, bits, true);
  str(36, 'data'); v.setUint32(40, data.length, true);
  buf.set(data, 44);
  return buf;
}

/** Interleaved int16 PCM bytes from per-channel float arrays in [-1, 1]. */
export function pcm16(channels: Float32Array[]): Uint8Array {
  const n = channels[0].length, c = channels.length;
  const out = new Uint8Array(2 * n * c);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) v.setInt16(2 * (i * c + j), Math.max(-32768, Math.min(32767, Math.round(channels[j][i] * 32768))), true);
  }
  return out;
}
