/**
 * Where a training run's time goes: seconds per phase (reading audio, encoding at each speed, the
 * baseline, gradient steps, dev scoring, the guard, writing), summed over the run. Kept in the
 * adapter's report.json and printed by `train --verbose`; bench/adapt-time tabulates it.
 */

/** Seconds per phase, in the order the phases were first timed. */
export type PhaseTimes = Record<string, number>;

export class PhaseClock {
  readonly sec: PhaseTimes = {};

  /** Add `seconds` to a phase. */
  add(phase: string, seconds: number): void {
    this.sec[phase] = (this.sec[phase] ?? 0) + seconds;
  }

  /** Run fn and add its wall time to a phase. */
  time<T>(phase: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.add(phase, (performance.now() - t0) / 1000);
    }
  }

  /** Await fn and add its wall time to a phase. */
  async timeAsync<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(phase, (performance.now() - t0) / 1000);
    }
  }

  /** One line: "read 1.2 s, encode 8.3 s, ..." (phases under 0.05 s left out). */
  summary(): string {
    return Object.entries(this.sec).filter(([, s]) => s >= 0.05).map(([p, s]) => `${p} ${s.toFixed(1)} s`).join(', ');
  }
}
