/**
 * Noise suppression on mel filter energies, as sphinxbase's front end does it (sphinx_fe and
 * PocketSphinx with -remove_noise yes, their default): per filter, a slowly rising and quickly
 * falling lower envelope of the smoothed power tracks the noise; what lies above it is the speech,
 * held up by a floor tracked the same way and by temporal masking after peaks; each filter's energy
 * is then scaled by its gain (speech / power, within 1/20 and 20) averaged over the 4 filters on
 * either side. After Doblinger's minimum tracking and Kim and Stern's PNCC. State runs over one
 * utterance (reset() starts the next), frame by frame, with no look-ahead.
 */

/** Smoothing of the power over time. */
const LAMBDA_POWER = 0.7;
/** Lower envelope: the weight of the old value when the input rises above it, and when it falls below. */
const LAMBDA_RISE = 0.995;
const LAMBDA_FALL = 0.5;
/** Temporal masking: a peak decays by this factor per frame, and speech below it is held at MASK_HOLD times the peak. */
const LAMBDA_MASK = 0.85;
const MASK_HOLD = 0.2;
/** The speech estimate's least value, in the power units of 16-bit samples. */
const MIN_SPEECH = 1;
const MAX_GAIN = 20;
/** Gains are averaged over this many filters on either side. */
const SMOOTH = 4;

export class NoiseSuppressor {
  private readonly power: Float64Array;
  private readonly noise: Float64Array;
  private readonly floor: Float64Array;
  private readonly peak: Float64Array;
  private readonly speech: Float64Array;
  private readonly gain: Float64Array;
  private fresh = true;

  constructor(readonly filters: number) {
    this.power = new Float64Array(filters);
    this.noise = new Float64Array(filters);
    this.floor = new Float64Array(filters);
    this.peak = new Float64Array(filters);
    this.speech = new Float64Array(filters);
    this.gain = new Float64Array(filters);
  }

  /** Start a new utterance: the next frame seeds the estimates. */
  reset(): void {
    this.fresh = true;
  }

  /** Scale one frame's filter energies `e` (power, before the log) in place. */
  apply(e: Float64Array): void {
    const n = this.filters, { power, noise, floor, peak, speech, gain } = this;
    if (this.fresh) {
      for (let i = 0; i < n; i++) { power[i] = e[i]; noise[i] = e[i] / MAX_GAIN; floor[i] = e[i] / MAX_GAIN; peak[i] = 0; }
      this.fresh = false;
    }
    for (let i = 0; i < n; i++) {
      const p = (power[i] = LAMBDA_POWER * power[i] + (1 - LAMBDA_POWER) * e[i]);
      noise[i] = envelope(noise[i], p);
      speech[i] = Math.max(MIN_SPEECH, p - noise[i]);
    }
    for (let i = 0; i < n; i++) {
      const s = speech[i];
      floor[i] = envelope(floor[i], s);
      peak[i] *= LAMBDA_MASK;
      let v = s < LAMBDA_MASK * peak[i] ? peak[i] * MASK_HOLD : s;
      if (s > peak[i]) peak[i] = s;
      if (v < floor[i]) v = floor[i];
      const g = v < MAX_GAIN * power[i] ? v / power[i] : MAX_GAIN;
      gain[i] = g < 1 / MAX_GAIN ? 1 / MAX_GAIN : g;
    }
    for (let i = 0; i < n; i++) {
      const lo = Math.max(0, i - SMOOTH), hi = Math.min(n - 1, i + SMOOTH);
      let sum = 0;
      for (let j = lo; j <= hi; j++) sum += gain[j];
      e[i] *= sum / (hi - lo + 1);
    }
  }
}

/** One step of the asymmetric lower envelope: slow to rise, quick to fall. */
function envelope(old: number, x: number): number {
  return x >= old ? LAMBDA_RISE * old + (1 - LAMBDA_RISE) * x : LAMBDA_FALL * old + (1 - LAMBDA_FALL) * x;
}
