/** Analysis windows, as Float64Array of length n. */

/**
 * Hann window. periodic=true is torch.hann_window(n) (the default, used by Whisper):
 * 0.5 - 0.5 cos(2 pi i / n); periodic=false is the symmetric one, denominator n - 1.
 */
export function hann(n: number, periodic: boolean): Float64Array {
  const w = new Float64Array(n);
  const denom = periodic ? n : n - 1;
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / denom);
  return w;
}

/** Kaldi's "povey" window: the symmetric Hann window raised to the power 0.85. */
export function povey(n: number): Float64Array {
  const w = hann(n, false);
  for (let i = 0; i < n; i++) w[i] = Math.pow(w[i], 0.85);
  return w;
}

/** Symmetric Hamming window, 0.54 - 0.46 cos(2 pi i / (n - 1)), as sphinxbase builds it (first half mirrored). */
export function hamming(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n >> 1; i++) w[i] = w[n - 1 - i] = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (n - 1));
  if (n % 2 === 1) w[n >> 1] = 1; // sphinxbase leaves the middle sample of an odd window unscaled
  return w;
}
