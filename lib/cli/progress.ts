/** A progress bar on stderr when it is a terminal; silent otherwise (logs, CI, pipes). */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** A bar counting items, or with unit 'bytes' megabytes with the rate. */
export function progressBar(label: string, unit: 'items' | 'bytes' = 'items'): Progress {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bytes = unit === 'bytes';
  const bar = new cliProgress.SingleBar({
    format: bytes ? `${label} [{bar}] {mb}/{totalMb} MB {percentage}% {rate} MB/s ETA {eta_formatted}` : `${label} [{bar}] {value}/{total} {percentage}% ETA {eta_formatted}`,
    stream: process.stderr, hideCursor: true, clearOnComplete: true,
  }, cliProgress.Presets.shades_classic);
  let started = false, t0 = 0;
  const extra = (done: number, total: number) => (bytes ? { mb: (done / 1e6).toFixed(1), totalMb: (total / 1e6).toFixed(1), rate: (done / 1e6 / Math.max(1e-3, (performance.now() - t0) / 1000)).toFixed(1) } : {});
  return {
    update(done, total) {
      if (!started) { bar.start(total, 0, extra(0, total)); started = true; t0 = performance.now(); }
      bar.setTotal(total);
      bar.update(done, extra(done, total));
    },
    stop() { if (started) bar.stop(); started = false; }, // a later update() starts a new bar
  };
}
