/**
 * Fixed audio constants. The encoders were trained at this rate, so it is not configurable;
 * everything is resampled to it.
 */

/** Sample rate of every model input, in Hz. */
export const SAMPLE_RATE = 16000;

/** Lowest and highest sample rate accepted from a file, in Hz (telephone to studio rates). */
export const MIN_INPUT_RATE = 4000;
export const MAX_INPUT_RATE = 384000;

/** Most channels accepted in a WAV file (7.1.4 and similar layouts fit easily). */
export const MAX_CHANNELS = 64;

/** Integer division that must be exact; throws otherwise (whisper's exact_div). */
export function exactDiv(x: number, y: number): number {
  if (x % y !== 0) throw new Error(`${x} is not divisible by ${y}`);
  return x / y;
}
