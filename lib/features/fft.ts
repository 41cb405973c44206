/**
 * Real-input power spectra of one frame. Powers of two use fft.js (radix-4). fft.js cannot do
 * other sizes, and Whisper's n_fft is 400: zero-padding to 512 would change the bins, so those
 * sizes take an exact mixed-radix path here: a Stockham autosort FFT with radix-2/3/4/5
 * butterflies (a plain O(r^2) DFT for larger prime factors), run on the N/2-point complex
 * sequence x[2k] + i*x[2k+1] and unpacked into the N/2+1 bins of the real transform.
 * All buffers and twiddles are allocated once per size.
 */
import FFTJS from 'fft.js';

/** Computes |X[k]|^2, k = 0..n/2, of a real frame of length n. */
export interface RealFft {
  readonly size: number;
  /** input: (size,), out: (size/2 + 1,). Neither is modified except `out`. */
  powerSpectrum(input: Float64Array, out: Float64Array): void;
}

/** Create the power-spectrum FFT for frames of `n` samples (n >= 2, even). */
export function createRealFft(n: number): RealFft {
  if (!Number.isInteger(n) || n < 2 || n % 2 !== 0) throw new RangeError(`FFT size must be an even integer >= 2, got ${n}`);
  return (n & (n - 1)) === 0 && n >= 4 ? new Pow2RealFft(n) : new MixedRadixRealFft(n);
}

class Pow2RealFft implements RealFft {
  readonly size: number;
  private readonly fft: FFTJS;
  private readonly out: number[];
  constructor(n: number) {
    this.size = n;
    this.fft = new FFTJS(n);
    this.out = this.fft.createComplexArray() as number[];
  }
  powerSpectrum(input: Float64Array, out: Float64Array): void {
    // realTransform fills bins 0..n/2 of the interleaved complex output.
    this.fft.realTransform(this.out, input as unknown as number[]);
    const o = this.out;
    const half = this.size / 2;
    for (let k = 0; k <= half; k++) {
      const re = o[2 * k];
      const im = o[2 * k + 1];
      out[k] = re * re + im * im;
    }
  }
}

/** Factor n into radices, preferring 4, then 2, 3, 5, then any prime. */
function factorize(n: number): number[] {
  const f: number[] = [];
  while (n % 4 === 0) { f.push(4); n /= 4; }
  for (const p of [2, 3, 5]) while (n % p === 0) { f.push(p); n /= p; }
  for (let p = 7; n > 1; p += 2) while (n % p === 0) { f.push(p); n /= p; }
  return f;
}

/** One Stockham stage: sub-transform length n, radix r, stride s, twiddles (m, r-1). */
interface Stage { n: number; r: number; s: number; m: number; twRe: Float64Array; twIm: Float64Array }

/** Complex FFT of any size, forward (e^{-2 pi i jk/n}), Stockham autosort (no bit reversal). */
export class MixedRadixFft {
  readonly size: number;
  private readonly stages: Stage[];
  private readonly aRe: Float64Array; private readonly aIm: Float64Array;
  private readonly bRe: Float64Array; private readonly bIm: Float64Array;
  // Scratch for the generic radix: (r,) each.
  private readonly gRe: Float64Array; private readonly gIm: Float64Array;

  constructor(n: number) {
    this.size = n;
    this.stages = [];
    let len = n;
    let s = 1;
    let maxR = 1;
    for (const r of factorize(n)) {
      const m = len / r;
      const twRe = new Float64Array(m * (r - 1));
      const twIm = new Float64Array(m * (r - 1));
      for (let p = 0; p < m; p++) {
        for (let k = 1; k < r; k++) {
          const a = (-2 * Math.PI * p * k) / len;
          twRe[p * (r - 1) + k - 1] = Math.cos(a);
          twIm[p * (r - 1) + k - 1] = Math.sin(a);
        }
      }
      this.stages.push({ n: len, r, s, m, twRe, twIm });
      maxR = Math.max(maxR, r);
      len = m;
      s *= r;
    }
    this.aRe = new Float64Array(n); this.aIm = new Float64Array(n);
    this.bRe = new Float64Array(n); this.bIm = new Float64Array(n);
    this.gRe = new Float64Array(2 * maxR); this.gIm = new Float64Array(2 * maxR);
  }

  /** Transform in place: re and im are (size,). */
  transform(re: Float64Array, im: Float64Array): void {
    let xRe = this.aRe, xIm = this.aIm, yRe = this.bRe, yIm = this.bIm;
    xRe.set(re); xIm.set(im);
    for (const st of this.stages) {
      this.stage(st, xRe, xIm, yRe, yIm);
      [xRe, yRe] = [yRe, xRe];
      [xIm, yIm] = [yIm, xIm];
    }
    re.set(xRe); im.set(xIm);
  }

  private stage(st: Stage, xRe: Float64Array, xIm: Float64Array, yRe: Float64Array, yIm: Float64Array): void {
    switch (st.r) {
      case 4: return this.radix4(st, xRe, xIm, yRe, yIm);
      case 2: return this.radix2(st, xRe, xIm, yRe, yIm);
      case 5: return this.radix5(st, xRe, xIm, yRe, yIm);
      case 3: return this.radix3(st, xRe, xIm, yRe, yIm);
      default: return this.generic(st, xRe, xIm, yRe, yIm);
    }
  }

  // Each butterfly reads inputs j at i0 + j*s*m and writes outputs k at o0 + k*s, times w_n^(p*k)
  // (twiddles tw[p*(r-1) + k-1]; all 1 when p = 0, the only p of the last stage).

  private radix4({ s, m, twRe, twIm }: Stage, xRe: Float64Array, xIm: Float64Array, yRe: Float64Array, yIm: Float64Array): void {
    const sm = s * m;
    for (let p = 0; p < m; p++) {
      const tw = 3 * p;
      const w1r = twRe[tw], w1i = twIm[tw], w2r = twRe[tw + 1], w2i = twIm[tw + 1], w3r = twRe[tw + 2], w3i = twIm[tw + 2];
      for (let q = 0; q < s; q++) {
        const i0 = q + s * p, o0 = q + 4 * s * p;
        const a0r = xRe[i0], a0i = xIm[i0];
        const a1r = xRe[i0 + sm], a1i = xIm[i0 + sm];
        const a2r = xRe[i0 + 2 * sm], a2i = xIm[i0 + 2 * sm];
        const a3r = xRe[i0 + 3 * sm], a3i = xIm[i0 + 3 * sm];
        const t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i;
        const t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i;
        // b0 = t0 + t2; b1 = t1 - i t3; b2 = t0 - t2; b3 = t1 + i t3
        const b1r = t1r + t3i, b1i = t1i - t3r, b2r = t0r - t2r, b2i = t0i - t2i, b3r = t1r - t3i, b3i = t1i + t3r;
        yRe[o0] = t0r + t2r; yIm[o0] = t0i + t2i;
        yRe[o0 + s] = b1r * w1r - b1i * w1i; yIm[o0 + s] = b1r * w1i + b1i * w1r;
        yRe[o0 + 2 * s] = b2r * w2r - b2i * w2i; yIm[o0 + 2 * s] = b2r * w2i + b2i * w2r;
        yRe[o0 + 3 * s] = b3r * w3r - b3i * w3i; yIm[o0 + 3 * s] = b3r * w3i + b3i * w3r;
      }
    }
  }

  private radix2({ s, m, twRe, twIm }: Stage, xRe: Float64Array, xIm: Float64Array, yRe: Float64Array, yIm: Float64Array): void {
    const sm = s * m;
    for (let p = 0; p < m; p++) {
      const wr = twRe[p], wi = twIm[p];
      for (let q = 0; q < s; q++) {
        const i0 = q + s * p, o0 = q + 2 * s * p;
        const ar = xRe[i0], ai = xIm[i0], br = xRe[i0 + sm], bi = xIm[i0 + sm];
        const dr = ar - br, di = ai - bi;
        yRe[o0] = ar + br; yIm[o0] = ai + bi;
        yRe[o0 + s] = dr * wr - di * wi; yIm[o0 + s] = dr * wi + di * wr;
      }
    }
  }

  private radix3(st: Stage, xRe: Float64Array, xIm: Float64Array, yRe: Float64Array, yIm: Float64Array): void {
    const { s, m, twRe, twIm } = st;
    const sm = s * m;
    for (let p = 0; p < m; p++) {
      const tw = 2 * p;
      for (let q = 0; q < s; q++) {
        const i0 = q + s * p, o0 = q + 3 * s * p;
        const a0r = xRe[i0], a0i = xIm[i0];
        const a1r = xRe[i0 + sm], a1i = xIm[i0 + sm], a2r = xRe[i0 + 2 * sm], a2i = xIm[i0 + 2 * sm];
        const tr = a1r + a2r, ti = a1i + a2i;
        const mr = a0r - 0.5 * tr, mi = a0i - 0.5 * ti;
        const nr = SIN60 * (a1r - a2r), ni = SIN60 * (a1i - a2i);
        yRe[o0] = a0r + tr; yIm[o0] = a0i + ti;
        // b1 = m - i n, b2 = m + i n
        this.twiddle(yRe, yIm, o0 + s, mr + ni, mi - nr, twRe[tw], twIm[tw]);
        this.twiddle(yRe, yIm, o0 + 2 * s, mr - ni, mi + nr, twRe[tw + 1], twIm[tw + 1]);
      }
    }
  }

  private radix5({ s, m, twRe, twIm }: Stage, xRe: Float64Array, xIm: Float64Array, yRe: Float64Array, yIm: Float64Array): void {
    const sm = s * m;
    for (let p = 0; p < m; p++) {
      const tw = 4 * p;
      const w1r = twRe[tw], w1i = twIm[tw], w2r = twRe[tw + 1], w2i = twIm[tw + 1];
      const w3r = twRe[tw + 2], w3i = twIm[tw + 2], w4r = twRe[tw + 3], w4i = twIm[tw + 3];
      for (let q = 0; q < s; q++) {
        const i0 = q + s * p, o0 = q + 5 * s * p;
        const a0r = xRe[i0], a0i = xIm[i0];
        const a1r = xRe[i0 + sm], a1i = xIm[i0 + sm];
        const a2r = xRe[i0 + 2 * sm], a2i = xIm[i0 + 2 * sm];
        const a3r = xRe[i0 + 3 * sm], a3i = xIm[i0 + 3 * sm];
        const a4r = xRe[i0 + 4 * sm], a4i = xIm[i0 + 4 * sm];
        const t1r = a1r + a4r, t1i = a1i + a4i, t2r = a2r + a3r, t2i = a2i + a3i;
        const t3r = a1r - a4r, t3i = a1i - a4i, t4r = a2r - a3r, t4i = a2i - a3i;
        const m1r = a0r + C1 * t1r + C2 * t2r, m1i = a0i + C1 * t1i + C2 * t2i;
        const m2r = a0r + C2 * t1r + C1 * t2r, m2i = a0i + C2 * t1i + C1 * t2i;
        const n1r = S1 * t3r + S2 * t4r, n1i = S1 * t3i + S2 * t4i;
        const n2r = S2 * t3r - S1 * t4r, n2i = S2 * t3i - S1 * t4i;
        // b1 = m1 - i n1, b4 = m1 + i n1, b2 = m2 - i n2, b3 = m2 + i n2
        const b1r = m1r + n1i, b1i = m1i - n1r, b4r = m1r - n1i, b4i = m1i + n1r;
        const b2r = m2r + n2i, b2i = m2i - n2r, b3r = m2r - n2i, b3i = m2i + n2r;
        yRe[o0] = a0r + t1r + t2r; yIm[o0] = a0i + t1i + t2i;
        yRe[o0 + s] = b1r * w1r - b1i * w1i; yIm[o0 + s] = b1r * w1i + b1i * w1r;
        yRe[o0 + 2 * s] = b2r * w2r - b2i * w2i; yIm[o0 + 2 * s] = b2r * w2i + b2i * w2r;
        yRe[o0 + 3 * s] = b3r * w3r - b3i * w3i; yIm[o0 + 3 * s] = b3r * w3i + b3i * w3r;
        yRe[o0 + 4 * s] = b4r * w4r - b4i * w4i; yIm[o0 + 4 * s] = b4r * w4i + b4i * w4r;
      }
    }
  }

  private twiddle(yRe: Float64Array, yIm: Float64Array, o: number, br: number, bi: number, wr: number, wi: number): void {
    yRe[o] = br * wr - bi * wi;
    yIm[o] = br * wi + bi * wr;
  }

  private generic({ r, s, m, twRe, twIm }: Stage, xRe: Float64Array, xIm: Float64Array, yRe: Float64Array, yIm: Float64Array): void {
    const g = this.gRe, h = this.gIm, sm = s * m;
    for (let p = 0; p < m; p++) {
      const tw = (r - 1) * p;
      for (let q = 0; q < s; q++) {
        const i0 = q + s * p, o0 = q + r * s * p;
        for (let j = 0; j < r; j++) { g[j] = xRe[i0 + j * sm]; h[j] = xIm[i0 + j * sm]; }
        for (let k = 0; k < r; k++) {
          let br = 0, bi = 0;
          for (let j = 0; j < r; j++) {
            const a = (-2 * Math.PI * ((j * k) % r)) / r;
            const c = Math.cos(a), sn = Math.sin(a);
            br += g[j] * c - h[j] * sn;
            bi += g[j] * sn + h[j] * c;
          }
          if (k === 0) { yRe[o0] = br; yIm[o0] = bi; } else this.twiddle(yRe, yIm, o0 + k * s, br, bi, twRe[tw + k - 1], twIm[tw + k - 1]);
        }
      }
    }
  }
}

const SIN60 = Math.sin(Math.PI / 3);
const C1 = Math.cos((2 * Math.PI) / 5), C2 = Math.cos((4 * Math.PI) / 5);
const S1 = Math.sin((2 * Math.PI) / 5), S2 = Math.sin((4 * Math.PI) / 5);

/** Real FFT of even size n through an n/2-point complex FFT. */
class MixedRadixRealFft implements RealFft {
  readonly size: number;
  private readonly half: number;
  private readonly fft: MixedRadixFft;
  private readonly zRe: Float64Array; private readonly zIm: Float64Array;
  private readonly cos: Float64Array; private readonly sin: Float64Array;
  constructor(n: number) {
    this.size = n;
    const K = n / 2;
    this.half = K;
    this.fft = new MixedRadixFft(K);
    this.zRe = new Float64Array(K); this.zIm = new Float64Array(K);
    this.cos = new Float64Array(K + 1); this.sin = new Float64Array(K + 1);
    for (let k = 0; k <= K; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
  }
  powerSpectrum(input: Float64Array, out: Float64Array): void {
    const K = this.half, zRe = this.zRe, zIm = this.zIm;
    for (let k = 0; k < K; k++) { zRe[k] = input[2 * k]; zIm[k] = input[2 * k + 1]; }
    this.fft.transform(zRe, zIm);
    for (let k = 0; k <= K; k++) {
      const a = k === K ? 0 : k, b = k === 0 ? 0 : K - k;
      const zr = zRe[a], zi = zIm[a], cr = zRe[b], ci = -zIm[b]; // Z[k], conj(Z[K-k])
      const er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci); // even part
      const or = 0.5 * (zi - ci), oi = -0.5 * (zr - cr); // odd part: (Z - conj)/(2i)
      // X[k] = E + e^{-2 pi i k/n} O
      const wr = this.cos[k], wi = -this.sin[k];
      const xr = er + wr * or - wi * oi, xi = ei + wr * oi + wi * or;
      out[k] = xr * xr + xi * xi;
    }
  }
}
