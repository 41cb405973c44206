/**
 * trainAdapter(): learn an accent adapter head on a frozen encoder. It reads top to bottom as its
 * five phases, each a function in a file named for what it does:
 *   1. model and data (prepare.ts): read the dataset, take --minutes, encode every utterance once,
 *      hold out a dev set (or deal an ensemble's folds), encode the training split at other speeds;
 *   2. baseline (guard.ts): the base model's dev WER/CER, decoded as transcribe decodes;
 *   3. epochs (epochs.ts), member by member: CTC loss, Adam, dev WER per epoch picks the best epoch;
 *      a checkpoint after each makes the run resumable;
 *   4. guard (guard.ts): keep the adapter only if dev WER clearly beats the base model, and say so
 *      either way; then, with 1,000+ dev words, the adapter's own LM weight and word bonus;
 *   5. write (write.ts) the adapter folder atomically, with a JSON report and a plot.
 * Options and their measured defaults are in options.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { recoverAdapter } from '../adapter/io.js';
import { UsageError } from '../errors.js';
import { initTraining } from './backend.js';
import { partialDir, startGradPool, stepConfig, trainMembers } from './epochs.js';
import { adapterDecoding, judge, measureBaseline } from './guard.js';
import { resolveTrainOptions, type TrainOptions, type TrainResult } from './options.js';
import { PhaseClock } from './phases.js';
import { prepareRun } from './prepare.js';
import { writeAdapter } from './write.js';

export { bundledAccents, DEFAULT_LR, DEFAULT_SPEEDS, type EpochReport, type TrainOptions, type TrainResult } from './options.js';
export { MIN_TUNE_WORDS, TUNE_MARGIN, tuneDecoding } from './dev-score.js';

/**
 * Train an accent adapter (or an ensemble of K) on a frozen base model and write its folder.
 * @param options see TrainOptions; only `accent` is required (bundled data for it, else `data`)
 * @returns the folder written, what adapter.json says (including the guard's verdict), the epochs run and the utterances skipped
 */
export async function trainAdapter(options: TrainOptions): Promise<TrainResult> {
  const cfg = resolveTrainOptions(options);
  const log = options.onLog ?? (() => undefined);
  const out = path.resolve(cfg.out);
  const partial = partialDir(out);
  recoverAdapter(out);
  if (fs.existsSync(out) && !cfg.force && !cfg.resume) throw new UsageError(`${cfg.out} already holds an adapter; use --force to replace it (or --out elsewhere)`);
  if (cfg.resume && !fs.existsSync(path.join(partial, 'state.json'))) {
    if (fs.existsSync(path.join(out, 'adapter.json'))) throw new UsageError(`${cfg.out}: that run already finished; there is nothing to resume`);
    throw new UsageError(`${cfg.out}: no interrupted run to resume (no ${partial})`);
  }

  // 1. Model and data.
  const clock = new PhaseClock();
  const run = await prepareRun(cfg, options, log, clock);

  // 2. Baseline.
  const rt = await clock.timeAsync('load backend', () => initTraining());
  log(`training backend: ${rt.backend}`);
  const baseline = clock.time('baseline', () => measureBaseline(cfg, run, log));

  // 3. Epochs, member by member (resuming from the last checkpoint when asked).
  const step = stepConfig(cfg, run);
  const pool = await startGradPool(cfg, step, baseline.fresh, log);
  let trained;
  try {
    trained = await trainMembers(rt.tf, cfg, run, baseline, partial, options, log, step, pool, clock);
  } finally {
    await pool?.close();
  }

  // 4. Guard, then the adapter's own decoding settings.
  const judgement = clock.time('guard', () => judge(cfg, run, baseline, trained.members, trained.state.done, log));
  const decoding = clock.time('decoding tune', () => adapterDecoding(cfg, run, baseline, trained.members, judgement, log));

  // 5. Write.
  const meta = clock.time('write', () => writeAdapter(cfg, out, run, baseline, trained, judgement, decoding, rt.backend, log, clock.sec));
  // The checkpoint's state first: a kill while the folder is being removed must not leave a state.json whose
  // weights are gone (--resume would then fail; the kill test found it).
  fs.rmSync(path.join(partial, 'state.json'), { force: true });
  fs.rmSync(partial, { recursive: true, force: true });
  log(`time by phase: ${clock.summary()}`);
  return { out, meta, history: trained.state.history, skipped: run.skipped, phases: clock.sec };
}
