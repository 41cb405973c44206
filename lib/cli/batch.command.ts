/** `adapt-asr batch submit|status|results`: transcription of many files by workers on a Redis queue. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { withDecodeOptions, type DecodeArgs } from './decode-options.js';

interface BatchArgs extends DecodeArgs {
  action: string; inputs?: string[]; id?: string; redis?: string; out?: string; format: string; accent?: string; adapter?: string; model?: string;
  attempts?: number; wait: boolean; json: boolean;
}

const REDIS_DEFAULT = process.env.ADAPT_ASR_REDIS;

function duration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

export const batchCommand: CommandModule<object, BatchArgs> = {
  command: 'batch <action> [inputs..]',
  describe: 'Transcribe many files with workers on other processes or machines (`adapt-asr worker`), through a Redis queue: submit, status, results.',
  builder: (y: Argv) => withDecodeOptions(y)
    .positional('action', { type: 'string', choices: ['submit', 'status', 'results'], describe: 'submit <files|folders|manifest>: one job per file, prints the batch id; status <id>: counts, speed and ETA; results <id>: the result files and the failures.' })
    .positional('inputs', { type: 'string', array: true, describe: 'submit: WAV files, folders of WAVs, or a manifest (.jsonl with audio_filepath, or one path per line). status/results: the batch id.' })
    .option('redis', { type: 'string', default: REDIS_DEFAULT, defaultDescription: '$ADAPT_ASR_REDIS', describe: 'The Redis server of the queue, e.g. redis://127.0.0.1:6379.' })
    .option('out', { type: 'string', describe: 'submit: folder for the results, one file per input (<name>.txt/.json/.srt/.vtt), on a file system the workers share.' })
    .option('format', { type: 'string', choices: ['text', 'json', 'srt', 'vtt'], default: 'text', describe: 'submit: the result format, as in transcribe.' })
    .option('accent', { type: 'string', describe: 'submit: use the adapter ./adapters/<accent> (as transcribe does).' })
    .option('adapter', { type: 'string', describe: 'submit: use this adapter folder.' })
    .option('model', { type: 'string', describe: 'submit: the base model by name (default: the workers\' default, base-en-real).' })
    .option('attempts', { type: 'number', describe: 'submit: tries per file before it is marked failed (default 3; waits of 1, 2, 4 s between).' })
    .option('wait', { type: 'boolean', default: false, describe: 'submit: show progress until the batch is done; exit 1 if any file failed.' })
    .option('json', { type: 'boolean', default: false, describe: 'status/results: print JSON.' })
    .example('$0 batch submit calls/ --redis redis://queue:6379 --accent scottish --format json --out /shared/results', 'One job per WAV in calls/; prints the batch id.')
    .example('$0 batch status 3f9a0c21de --redis redis://queue:6379', 'Files done, failed, running and waiting; speed and ETA.') as unknown as Argv<BatchArgs>,
  handler: async (argv: ArgumentsCamelCase<BatchArgs>) => {
    const path = await import('node:path');
    const fs = await import('node:fs');
    const { UsageError } = await import('../errors.js');
    const { checkRedisUrl } = await import('../queue/config.js');
    const q = await import('../queue/submit.js');
    const redis = checkRedisUrl(argv.redis);
    const say = (s: string): void => { process.stdout.write(`${s}\n`); };
    if (argv.action === 'submit') {
      if (argv.out === undefined) throw new UsageError('batch submit needs --out: the folder for the results');
      if (argv.accent !== undefined && argv.adapter !== undefined) throw new UsageError('give --accent or --adapter, not both');
      let adapter = argv.adapter;
      if (argv.accent !== undefined) {
        adapter = path.join('adapters', argv.accent);
        if (!fs.existsSync(path.join(adapter, 'adapter.json'))) throw new UsageError(`no adapter for accent '${argv.accent}' in ./adapters; train one with \`adapt-asr train --accent ${argv.accent}\` or name a folder with --adapter`);
      }
      const { readHotwords } = await import('./decode-options.js');
      const decode = Object.fromEntries(Object.entries({
        beam: argv.beam, lmWeight: argv.lmWeight, wordBonus: argv.wordBonus, oovPenalty: argv.oovPenalty, blankPenalty: argv.blankPenalty, lexicon: argv.lexicon,
        // yargs turns --no-lm into lm: false.
        lm: typeof argv.lm === 'string' ? argv.lm : undefined, useLm: argv.lm === false ? false : undefined,
        hotwords: argv.hotwords ? readHotwords(argv.hotwords) : undefined,
      }).filter(([, v]) => v !== undefined));
      const s = await q.submitBatch({ redis, inputs: argv.inputs ?? [], out: argv.out, format: argv.format as 'text', model: argv.model, adapter, attempts: argv.attempts, decode });
      say(s.id);
      process.stderr.write(`batch ${s.id}: ${s.total} files on the transcribe queue; results go to ${s.out}\n`);
      if (argv.wait) await follow(redis, s.id);
      return;
    }
    const ids = argv.inputs ?? [];
    if (ids.length !== 1) throw new UsageError(`batch ${argv.action} takes one batch id`);
    const id = ids[0];
    if (argv.action === 'status') {
      if (id.startsWith('train-')) {
        const t = await q.trainStatus(redis, id);
        if (argv.json) return say(JSON.stringify(t, null, 2));
        const p = t.progress;
        say(`${id}: ${t.state}${p ? `, ${p.phase}${p.epoch !== undefined ? ` epoch ${p.epoch}${p.member !== undefined ? ` of member ${p.member + 1}` : ''}, dev WER ${(100 * (p.devWer ?? 0)).toFixed(1)}%` : ` ${p.done}/${p.total}`}${p.resumedFrom ? ` (resumed after epoch ${p.resumedFrom})` : ''}` : ''}`);
        if (t.result) say(`adapter ${t.result.out}: ${t.result.verdict}`);
        if (t.error) say(`error: ${t.error}`);
        return;
      }
      const s = await q.batchStatus(redis, id);
      if (argv.json) return say(JSON.stringify(s, null, 2));
      say(`batch ${id}: ${s.done} done, ${s.failed} failed, ${s.running} running, ${s.waiting} waiting of ${s.total}${s.finished ? ' (finished)' : ''}`);
      say(`${(s.audioSeconds / 60).toFixed(1)} min of audio in ${duration(s.elapsedSec)}: ${s.filesPerMinute.toFixed(1)} files/min, ${s.speed.toFixed(1)}x real time${s.finished ? '' : `, ETA ${duration(s.etaSec)}`}`);
      return;
    }
    const r = await q.batchResults(redis, id);
    if (argv.json) return say(JSON.stringify(r, null, 2));
    for (const x of r.ok) say(`ok\t${x.audio}\t${x.result}`);
    for (const x of r.failed) say(`failed\t${x.audio}\t${x.error}`);
    for (const a of r.pending) say(`pending\t${a}`);
    if (r.failed.length) process.exitCode = 1;
  },
};

/** A progress bar (or, off a terminal, a line every 10 s) until the batch is finished; Redis blips are waited out. */
async function follow(redis: string, id: string): Promise<void> {
  const { batchStatus } = await import('../queue/submit.js');
  const { progressBar } = await import('./progress.js');
  const bar = progressBar(`batch ${id}`);
  let lastLine = 0;
  for (;;) {
    const s = await retrying(() => batchStatus(redis, id));
    bar.update(s.done + s.failed, s.total);
    if (!process.stderr.isTTY && Date.now() - lastLine > 10000) {
      process.stderr.write(`batch ${id}: ${s.done + s.failed}/${s.total}, ${s.failed} failed\n`);
      lastLine = Date.now();
    }
    if (s.finished) {
      bar.stop();
      process.stderr.write(`batch ${id}: ${s.done} done, ${s.failed} failed, ${(s.audioSeconds / 60).toFixed(1)} min of audio at ${s.speed.toFixed(1)}x real time\n`);
      if (s.failed) process.exitCode = 1;
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Call `fn` until it succeeds: while Redis is unreachable or drops the connection under a command (a
 * restart, a failover; see isRedisDown), say so once and try again every 2 s, for up to `giveUpMs`.
 * Other errors are thrown at once.
 */
export async function retrying<T>(fn: () => Promise<T>, giveUpMs = 300000): Promise<T> {
  const { isRedisDown } = await import('../queue/config.js');
  let since: number | undefined;
  for (;;) {
    try {
      const r = await fn();
      if (since !== undefined) process.stderr.write('adapt-asr: Redis is back\n');
      return r;
    } catch (err) {
      if (!isRedisDown(err)) throw err;
      if (since === undefined) {
        since = Date.now();
        const m = (err as Error).message;
        process.stderr.write(`adapt-asr: ${/cannot reach Redis/.test(m) ? m : `lost Redis (${m})`}; still waiting (the jobs go on without us)\n`);
      } else if (Date.now() - since > giveUpMs) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
