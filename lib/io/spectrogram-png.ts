/**
 * A picture of a feature matrix: time left to right, low frequencies at the bottom, the
 * perceptually uniform 'magma' colour map (dark = quiet). Wide inputs are reduced by taking the
 * maximum over groups of frames, so a 1-hour file still gives a viewable image.
 */
import colormap from 'colormap';
import { PNG } from 'pngjs';
import type { Features } from '../types.js';
import { writeFileAtomic } from './atomic.js';

export interface SpectrogramPngOptions {
  /** Widest image in pixels (default 4000); longer inputs take the max over groups of frames. */
  maxWidth?: number;
  /** Pixels per mel band vertically (default: 2 for up to 128 bands, else 1). */
  rowHeight?: number;
  /** Dynamic range shown, in the features' own units (default: the whole range of the data). */
  dynamicRange?: number;
}

let palette: Uint8Array | null = null;
function magma(): Uint8Array {
  if (!palette) {
    const colors = colormap({ colormap: 'magma', nshades: 256, format: 'rgba' }) as number[][];
    palette = new Uint8Array(256 * 3);
    colors.forEach((c, i) => palette!.set([c[0], c[1], c[2]], 3 * i));
  }
  return palette;
}

/** Encode features (numFrames, dim) as PNG bytes. */
export function spectrogramPng(features: Features, options: SpectrogramPngOptions = {}): Uint8Array {
  const { data, numFrames, dim } = features;
  const maxWidth = options.maxWidth ?? 4000;
  const rowHeight = options.rowHeight ?? (dim <= 128 ? 2 : 1);
  const group = Math.max(1, Math.ceil(numFrames / maxWidth));
  const width = Math.max(1, Math.ceil(numFrames / group));
  const height = dim * rowHeight;
  let max = -Infinity, min = Infinity;
  for (let i = 0; i < data.length; i++) {
    if (data[i] > max) max = data[i];
    if (data[i] < min) min = data[i];
  }
  if (options.dynamicRange !== undefined) min = Math.max(min, max - options.dynamicRange);
  const scale = max > min ? 255 / (max - min) : 0;
  const pal = magma();
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  const px = Buffer.alloc(width * height * 3);
  for (let x = 0; x < width; x++) {
    const t0 = x * group, t1 = Math.min(numFrames, t0 + group);
    for (let m = 0; m < dim; m++) {
      let v = -Infinity;
      for (let t = t0; t < t1; t++) if (data[t * dim + m] > v) v = data[t * dim + m];
      const c = Math.max(0, Math.min(255, Math.round((v - min) * scale)));
      for (let r = 0; r < rowHeight; r++) {
        const y = height - 1 - (m * rowHeight + r); // band 0 at the bottom
        px[3 * (y * width + x)] = pal[3 * c];
        px[3 * (y * width + x) + 1] = pal[3 * c + 1];
        px[3 * (y * width + x) + 2] = pal[3 * c + 2];
      }
    }
  }
  png.data = px;
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Write the picture atomically. */
export function writeSpectrogramPng(path: string, features: Features, options?: SpectrogramPngOptions): void {
  writeFileAtomic(path, spectrogramPng(features, options));
}
