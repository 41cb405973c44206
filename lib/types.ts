/**
 * Public data types shared by every component. Multi-dimensional data is a flat typed array plus
 * explicit dimensions, row-major.
 */

/** Mono audio: samples nominally in [-1, 1] (float WAVs may exceed it), at `sampleRate` Hz. */
export interface Waveform {
  samples: Float32Array;
  sampleRate: number;
}

/** A feature matrix: `data` is (numFrames, dim), row-major. */
export interface Features {
  data: Float32Array;
  numFrames: number;
  dim: number;
  /** Seconds between consecutive frames (0.01 for every built-in preset). */
  frameShift: number;
  /** Name of the preset that produced these features. */
  preset: string;
}
