import assert from 'node:assert/strict';
import { createRealFft, MixedRadixFft } from '../../lib/features/index.js';
import { rng } from '../helpers/signals.js';

function naivePower(x: Float64Array): Float64Array {
  const n = x.length, out = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    let re = 0, im = 0;
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * ((j * k) % n)) / n;
      re += x[j] * Math.cos(a);
      im += x[j] * Math.sin(a);
    }
    out[k] = re * re + im * im;
  }
  return out;
}

describe('features/fft', () => {
  // 400 is Whisper's n_fft (radix 4, 2, 5, 5 on 200 points); 512 goes to fft.js; 14, 22, 98 and
  // 154 exercise radix 3-less paths and the generic prime radix (7, 11).
  for (const n of [400, 512, 6, 10, 14, 22, 98, 154, 18, 256]) {
    it(`power spectrum of size ${n} equals a direct DFT (relative error < 1e-12)`, () => {
      const r = rng(n);
      const x = Float64Array.from({ length: n }, () => r() - 0.5);
      const out = new Float64Array(n / 2 + 1);
      createRealFft(n).powerSpectrum(x, out);
      const ref = naivePower(x);
      const scale = Math.max(...ref);
      for (let k = 0; k < ref.length; k++) assert.ok(Math.abs(out[k] - ref[k]) <= 1e-12 * scale, `bin ${k}: ${out[k]} vs ${ref[k]}`);
    });
  }

  it('complex mixed-radix FFT of size 15 (radix 3 and 5) matches the DFT, and an impulse is flat', () => {
    const f = new MixedRadixFft(15);
    const re = new Float64Array(15), im = new Float64Array(15);
    re[0] = 1;
    f.transform(re, im);
    for (let k = 0; k < 15; k++) { assert.ok(Math.abs(re[k] - 1) < 1e-14); assert.ok(Math.abs(im[k]) < 1e-14); }
    const r = rng(3);
    const xr = Float64Array.from({ length: 15 }, () => r()), xi = Float64Array.from({ length: 15 }, () => r());
    const yr = xr.slice(), yi = xi.slice();
    f.transform(yr, yi);
    for (let k = 0; k < 15; k++) {
      let sr = 0, si = 0;
      for (let j = 0; j < 15; j++) {
        const a = (-2 * Math.PI * j * k) / 15;
        sr += xr[j] * Math.cos(a) - xi[j] * Math.sin(a);
        si += xr[j] * Math.sin(a) + xi[j] * Math.cos(a);
      }
      assert.ok(Math.abs(yr[k] - sr) < 1e-12 && Math.abs(yi[k] - si) < 1e-12, `bin ${k}`);
    }
  });

  it('rejects odd sizes', () => {
    assert.throws(() => createRealFft(401), /even integer/);
  });
});
