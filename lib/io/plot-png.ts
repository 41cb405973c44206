/**
 * Small line plots as PNG (pngjs), with a built-in 5x7 bitmap font for titles, axis labels and
 * tick values, so reports need no fonts or canvas: training curves and data-efficiency plots.
 */
import { PNG } from 'pngjs';

export interface Series { name: string; x: number[]; y: number[]; color: [number, number, number] }
export interface PlotOptions { title: string; xLabel: string; yLabel: string; width?: number; height?: number; yMin?: number; yMax?: number }

// 5x7 glyphs, one string of 7 rows of 5 bits each (row-major, '1' = ink).
const GLYPHS: Record<string, string> = {
  '0': '01110100011001110101110011000101110', '1': '00100011000010000100001000010001110', '2': '01110100010000100010001000100011111',
  '3': '11111000100010000010000011000101110', '4': '00010001100101010010111110001000010', '5': '11111100001111000001000011000101110',
  '6': '00110010001000011110100011000101110', '7': '11111000010001000100010000100001000', '8': '01110100011000101110100011000101110',
  '9': '01110100011000101111000010001001100', '.': '00000000000000000000000000110001100', '%': '11000110010001000100010000100110011',
  '-': '00000000000000011111000000000000000', ' ': '00000000000000000000000000000000000', '(': '00010001000100001000010000010000010',
  ')': '01000001000001000010000100010001000', ',': '00000000000000000000001100010001000', ':': '00000011000110000000011000110000000',
  '/': '00000000010001000100010001000000000', '+': '00000001000010011111001000010000000',
};
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const LOWER_GLYPHS = [
  '00000000000111000001011111000101111', '10000100001011011001100011000111110', '00000000000111010000100001000101110', '00001000010110110011100011000101111',
  '00000000000111010001111111000001110', '00110010010100011100010000100001000', '00000011111000110001011110000101110', '10000100001011011001100011000110001',
  '00100000000110000100001000010001110', '00010000000011000010000101001001100', '10000100001001010100110000101010010', '01100001000010000100001000010001110',
  '00000000001101010101101011000110001', '00000000001011011001100011000110001', '00000000000111010001100011000101110', '00000000001111010001111101000010000',
  '00000000000110110011011110000100001', '00000000001011011001100001000010000', '00000000000111010000011100000111110', '01000010001110001000010000100100110',
  '00000000001000110001100011001101101', '00000000001000110001100010101000100', '00000000001000110001101011010101010', '00000000001000101010001000101010001',
  '00000000001000110001011110000101110', '00000000001111100010001000100011111',
];
LOWER.split('').forEach((c, i) => { GLYPHS[c] = LOWER_GLYPHS[i]; });
const UPPER: Record<string, string> = {
  W: '10001100011000110101101011101110001', E: '11111100001000011110100001000011111', R: '11110100011000111110101001001010001',
  C: '01110100011000010000100001000101110', L: '10000100001000010000100001000011111', T: '11111001000010000100001000010000100',
};
Object.assign(GLYPHS, UPPER);

class Canvas {
  readonly w: number; readonly h: number; readonly px: Buffer;
  constructor(w: number, h: number) { this.w = w; this.h = h; this.px = Buffer.alloc(w * h * 3, 255); }
  set(x: number, y: number, c: [number, number, number]): void {
    x = Math.round(x); y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    const o = 3 * (y * this.w + x);
    this.px[o] = c[0]; this.px[o + 1] = c[1]; this.px[o + 2] = c[2];
  }
  line(x0: number, y0: number, x1: number, y1: number, c: [number, number, number], thick = 1): void {
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n, y = y0 + ((y1 - y0) * i) / n;
      for (let dx = 0; dx < thick; dx++) for (let dy = 0; dy < thick; dy++) this.set(x + dx - (thick >> 1), y + dy - (thick >> 1), c);
    }
  }
  text(s: string, x: number, y: number, c: [number, number, number] = [0, 0, 0], scale = 1): void {
    for (const ch of s) {
      const g = GLYPHS[ch] ?? GLYPHS[ch.toLowerCase()] ?? GLYPHS[' '];
      for (let r = 0; r < 7; r++) for (let k = 0; k < 5; k++) if (g[r * 5 + k] === '1') for (let a = 0; a < scale; a++) for (let b = 0; b < scale; b++) this.set(x + k * scale + a, y + r * scale + b, c);
      x += 6 * scale;
    }
  }
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Render series on shared axes; returns PNG bytes. */
export function linePlot(series: Series[], o: PlotOptions): Buffer {
  return panelsPlot([{ series, options: o }]);
}

/** Several plots stacked vertically in one PNG. */
export function panelsPlot(panels: { series: Series[]; options: PlotOptions }[]): Buffer {
  const W = panels[0].options.width ?? 720, H = panels[0].options.height ?? 420;
  const c = new Canvas(W, H * panels.length);
  panels.forEach((p, i) => draw(c, i * H, W, H, p.series, p.options));
  const png = new PNG({ width: W, height: H * panels.length, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = c.px;
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

function draw(c: Canvas, oy: number, W: number, H: number, series: Series[], o: PlotOptions): void {
  const L = 70, R = 20, T = 40 + oy, B = 60;
  H += oy;
  const xs = series.flatMap((s) => s.x), ys = series.flatMap((s) => s.y).filter(Number.isFinite);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1e-9);
  const y0 = o.yMin ?? Math.min(...ys), y1 = o.yMax ?? Math.max(...ys, y0 + 1e-9);
  const px = (x: number): number => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number): number => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const grey: [number, number, number] = [200, 200, 200], black: [number, number, number] = [0, 0, 0];
  for (let i = 0; i <= 5; i++) {
    const yv = y0 + ((y1 - y0) * i) / 5, xv = x0 + ((x1 - x0) * i) / 5;
    c.line(L, py(yv), W - R, py(yv), grey);
    c.text(fmt(yv), 4, py(yv) - 3);
    c.line(px(xv), H - B, px(xv), H - B + 4, black);
    c.text(fmt(xv), px(xv) - 10, H - B + 8);
  }
  c.line(L, T, L, H - B, black);
  c.line(L, H - B, W - R, H - B, black);
  c.text(o.title, L, oy + 12, black, 2);
  c.text(o.xLabel, (W - o.xLabel.length * 6) / 2, H - 22);
  c.text(o.yLabel, 4, T - 14);
  series.forEach((s, k) => {
    for (let i = 1; i < s.x.length; i++) if (Number.isFinite(s.y[i - 1]) && Number.isFinite(s.y[i])) c.line(px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), s.color, 2);
    for (let i = 0; i < s.x.length; i++) if (Number.isFinite(s.y[i])) c.line(px(s.x[i]) - 2, py(s.y[i]), px(s.x[i]) + 2, py(s.y[i]), s.color, 3);
    const lx = W - R - 200, ly = T + 6 + 14 * k;
    c.line(lx, ly + 3, lx + 20, ly + 3, s.color, 3);
    c.text(s.name, lx + 26, ly);
  });
}
