/** `adapt-asr train`: learn an accent adapter on the frozen pretrained encoder. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface TrainArgs {
  accent: string; data?: string; model: string; modelsDir?: string; out?: string; method: string; minutes?: number; epochs?: number;
  seed: number; ensemble?: number; patience?: number; resume: boolean; force: boolean; threads?: number; verbose: boolean; bottleneck?: number; context?: number; lr?: number; headLr?: number; asBase: boolean; devDecoding: string; devSplit: string; devData?: string; kld?: number; speeds?: string; cache: boolean;
  queue: boolean; redis?: string; wait: boolean;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Learn an adapter for an accent from a few minutes of its recordings; the pretrained encoder stays frozen.',
  builder: (y: Argv) => y
    .option('accent', { type: 'string', demandOption: true, describe: 'Name of the accent. Without --data, the bundled recordings audio-fixtures/accents/<accent>/train are used (bundled: scottish).' })
    .option('data', { type: 'string', describe: 'Your recordings: a folder of WAVs with transcripts.tsv (file<TAB>text[<TAB>speaker]) or a .jsonl manifest (audio_filepath, text, optional duration and speaker; paths relative to it).' })
    .option('model', { type: 'string', describe: 'The pretrained base model to adapt (name or folder). Default: base-en-real for your recordings (--data), base-en for the bundled accent data (synthetic voices, which base-en was pretrained on).' })
    .option('models-dir', { type: 'string', describe: 'Folder of your own models.' })
    .option('out', { type: 'string', describe: 'Where to write the adapter (default ./adapters/<accent>). An existing adapter is kept unless --force.' })
    .option('method', { type: 'string', choices: ['adapter', 'head', 'top'], default: 'adapter', describe: 'adapter: a small residual bottleneck on the encoder output plus the base CTC head; head: refit only the CTC head; top: fine-tune the encoder\'s last blocks (shipped in trainable form by base-en) and the head.' })
    .option('minutes', { type: 'number', describe: 'Train on a deterministic subset of about this many minutes (for data-efficiency curves).' })
    .option('epochs', { type: 'number', describe: 'Most passes over the data (default 40; training stops earlier when the held-out dev WER stops improving).' })
    .option('seed', { type: 'number', default: 1, describe: 'Random seed; the same seed and data give the same adapter.' })
    .option('patience', { type: 'number', describe: 'Epochs without dev improvement (neither WER nor loss) before training stops (default 6).' })
    .option('ensemble', { type: 'number', describe: 'Train this many adapters (2-8) on cross-validation folds of the data and average them when decoding: each member holds out a different fold as its dev set, so the guard judges every utterance; about N-1 times the training time of one adapter (default 1).' })
    .option('as-base', { type: 'boolean', default: false, describe: 'With --method head: train a CTC head for a model that has none (an imported Whisper or wav2vec2 encoder) on general English data, and store it as the model\'s base head, so accent adapters can build on it.' })
    .option('resume', { type: 'boolean', default: false, describe: 'Continue an interrupted run from its last checkpoint.' })
    .option('force', { type: 'boolean', default: false, describe: 'Replace an existing adapter at the output folder.' })
    .option('threads', { type: 'number', describe: 'Cores to use: encoding threads, and the shards each training batch is cut into (default: all cores; at most 4 shards).' })
    .option('cache', { type: 'boolean', default: true, describe: 'Keep encoder outputs in the encoding cache and reuse them, so a second run on the same recordings skips encoding (--no-cache: neither read nor write it; see `adapt-asr cache`).' })
    .option('bottleneck', { type: 'number', describe: 'Adapter bottleneck size (default 64).' })
    .option('context', { type: 'number', describe: 'Frames of temporal context the adapter sees, odd (default 3).' })
    .option('lr', { type: 'number', describe: 'Learning rate of the adapter (default 1e-3; 3e-3 for --method head, 5e-4 for the top blocks with --method top).' })
    .option('head-lr', { type: 'number', describe: 'Learning rate of the base CTC head (default 3e-4; 0 keeps it frozen).' })
    .option('kld', { type: 'number', describe: 'Weight (0-1) of a KL-divergence term that keeps the adapted outputs near the base model\'s (regularised adaptation for small data; default 0).' })
    .option('speeds', { type: 'string', describe: 'Speed perturbation: also train on each recording played at these speeds, comma-separated (default 0.9,1,1.1: three times the data, and slower training; 1 turns it off).' })
    .option('dev-decoding', { type: 'string', choices: ['default', 'greedy'], default: 'default', describe: 'How the held-out dev set is decoded to pick the best epoch and judge the adapter: default = as transcribe does (beam + the model\'s LM and lexicon), greedy = faster.' })
    .option('dev-data', { type: 'string', describe: 'Your own dev set (a folder with transcripts.tsv or a .jsonl manifest) to pick the best epoch and judge the adapter; all of --data then trains.' })
    .option('queue', { type: 'boolean', default: false, describe: 'Run the training on a worker (`adapt-asr worker`) through the Redis queue: prints the job id and returns; a worker that dies is replaced by another, which resumes from the last epoch\'s checkpoint. Needs --redis and --out on a file system the workers share.' })
    .option('redis', { type: 'string', default: process.env.ADAPT_ASR_REDIS, defaultDescription: '$ADAPT_ASR_REDIS', describe: 'With --queue: the Redis server of the queue.' })
    .option('wait', { type: 'boolean', default: false, describe: 'With --queue: follow the job\'s epochs until it ends.' })
    .option('dev-split', { type: 'string', choices: ['auto', 'speakers', 'per-speaker', 'utterances'], default: 'auto', describe: 'The held-out dev set (15% of the data) that picks the best epoch and judges the adapter: whole speakers (it measures speakers the adapter never heard), each speaker\'s share, or utterances at random. auto: whole speakers when the data names 8 or more, else each speaker\'s share (or random without speaker labels).' })
    .example('$0 train --accent scottish', 'Adapter from the bundled Scottish recordings; prints base vs adapted WER on the bundled test set.')
    .example('$0 train --accent scottish --ensemble 4 --force', 'Four adapters on four folds of the data, averaged: about 4 times the training time; on our benchmarks 0.5 (Scottish) to 3 (Mandarin-L1) points of WER better.')
    .example('$0 train --accent glasgow --data recordings/ --out adapters/glasgow', 'Adapter from your own recordings.')
    .example('$0 train --accent en --model whisper-tiny --method head --as-base --data english.jsonl', 'A base CTC head for an imported Whisper encoder.') as unknown as Argv<TrainArgs>,
  handler: async (argv: ArgumentsCamelCase<TrainArgs>) => {
    if (argv.queue) return queueTraining(argv);
    const { trainAdapter } = await import('../train/trainer.js');
    const { progressBar } = await import('./progress.js');
    const parts = argv.speeds?.split(',').map((x) => x.trim());
    const speeds = parts?.map(Number);
    if (parts?.some((x, i) => x === '' || !Number.isFinite(speeds![i]))) {
      const { UsageError } = await import('../errors.js');
      throw new UsageError(`--speeds must be numbers separated by commas, e.g. 0.9,1,1.1; got '${argv.speeds}'`);
    }
    const bar = progressBar('encoding');
    const err = (s: string): void => { process.stderr.write(`${s}\n`); };
    const r = await trainAdapter({
      accent: argv.accent, data: argv.data, model: argv.model, modelsDir: argv.modelsDir, out: argv.out, method: argv.method as 'adapter',
      minutes: argv.minutes, epochs: argv.epochs, seed: argv.seed, ensemble: argv.ensemble, patience: argv.patience, resume: argv.resume, force: argv.force, threads: argv.threads,
      bottleneck: argv.bottleneck, context: argv.context, lr: argv.lr, headLr: argv.headLr, asBase: argv.asBase, devDecoding: argv.devDecoding as 'default', devSplit: argv.devSplit as 'auto', devData: argv.devData, kld: argv.kld, speeds, cache: argv.cache,
      onEncodeProgress: (i, n) => { bar.update(i, n); if (i === n) bar.stop(); },
      onLog: (line) => err(line),
      onEpoch: (e) => err(`${e.member !== undefined ? `member ${e.member + 1}  ` : ''}epoch ${String(e.epoch).padStart(2)}  train loss ${e.trainLoss.toFixed(3)}  dev loss ${e.devLoss.toFixed(3)}  dev WER ${pct(e.devWer)}  CER ${pct(e.devCer)}  elapsed ${e.elapsedSec.toFixed(0)} s  ETA ${e.etaSec.toFixed(0)} s`),
    });
    const m = r.meta;
    const epochs = m.training.members ? `an ensemble of ${m.training.members.length}, best epochs ${m.training.members.map((x) => `${x.bestEpoch} of ${x.epochs}`).join(', ')}` : `best epoch ${m.training.bestEpoch} of ${m.training.epochs}`;
    const lines = [`adapter written to ${r.out} (${m.method}, ${m.data.minutes.toFixed(1)} min of ${m.accent} audio, ${epochs}, ${m.training.seconds.toFixed(0)} s)`,
      `dev (held out): ${m.dev.verdict}`];
    if (!m.dev.accepted && m.method === 'adapter') {
      const { resolveModel } = await import('../encoder/registry.js');
      if (resolveModel(argv.model ?? m.base.name, argv.modelsDir).manifest.trainableTop) lines.push(`hint: model '${m.base.name}' ships trainable top blocks; --method top fine-tunes them instead (slower, and sometimes better)`);
    }
    if (argv.data === undefined || r.meta.data.source.endsWith('train')) {
      const t0 = performance.now();
      const test = await scoreTest(r.out, argv);
      if (test) {
        lines.push(test);
        err(`time: test scoring ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
    process.stdout.write(lines.join('\n') + '\n');
  },
};

/** `train --queue`: the same options as a job for a worker; paths made absolute for a shared file system. */
async function queueTraining(argv: TrainArgs): Promise<void> {
  const path = await import('node:path');
  const { UsageError } = await import('../errors.js');
  const { checkRedisUrl } = await import('../queue/config.js');
  const { submitTraining, trainStatus } = await import('../queue/submit.js');
  const redis = checkRedisUrl(argv.redis);
  if (argv.out === undefined) throw new UsageError('train --queue needs --out: the adapter folder, on a file system the workers share');
  for (const [flag, v] of [['--resume', argv.resume], ['--as-base', argv.asBase], ['--models-dir', argv.modelsDir], ['--threads', argv.threads], ['--no-cache', argv.cache === false ? true : undefined]] as const) {
    if (v) throw new UsageError(`${flag} does not apply to train --queue: the worker resumes on its own and uses its own models and cores`);
  }
  const speeds = argv.speeds?.split(',').map((x) => Number(x.trim()));
  if (speeds?.some((x) => !Number.isFinite(x))) throw new UsageError(`--speeds must be numbers separated by commas, e.g. 0.9,1,1.1; got '${argv.speeds}'`);
  const fs = await import('node:fs');
  const { InputError } = await import('../errors.js');
  for (const p of [argv.data, argv.devData]) if (p !== undefined && !fs.existsSync(p)) throw new InputError('no such file or folder', p);
  const abs = (p?: string): string | undefined => (p === undefined ? undefined : path.resolve(p));
  const options = Object.fromEntries(Object.entries({
    accent: argv.accent, out: abs(argv.out)!, data: abs(argv.data), devData: abs(argv.devData), model: argv.model, method: argv.method as 'adapter', minutes: argv.minutes, epochs: argv.epochs,
    seed: argv.seed, ensemble: argv.ensemble, patience: argv.patience, bottleneck: argv.bottleneck, context: argv.context, lr: argv.lr, headLr: argv.headLr, kld: argv.kld, speeds,
    devSplit: argv.devSplit as 'auto', devDecoding: argv.devDecoding as 'default', force: argv.force,
  }).filter(([, v]) => v !== undefined));
  const { id } = await submitTraining(redis, options as unknown as Parameters<typeof submitTraining>[1]);
  process.stdout.write(`${id}\n`);
  process.stderr.write(`training job ${id} queued; \`adapt-asr batch status ${id}\` follows it; the adapter goes to ${options.out}\n`);
  if (!argv.wait) return;
  const { retrying } = await import('./batch.command.js');
  let last = '';
  for (;;) {
    const s = await retrying(() => trainStatus(redis, id));
    const p = s.progress;
    const line = p ? `${s.state}: ${p.phase}${p.epoch !== undefined ? ` epoch ${p.epoch}, dev WER ${pct(p.devWer ?? 0)}` : ` ${p.done}/${p.total}`}` : s.state;
    if (line !== last) process.stderr.write(`${id} ${line}\n`);
    last = line;
    if (s.state === 'completed') {
      process.stdout.write(`adapter written to ${s.result!.out}\ndev (held out): ${s.result!.verdict}\n`);
      return;
    }
    if (s.state === 'failed') {
      const { AdaptAsrError } = await import('../errors.js');
      throw new AdaptAsrError(`training job ${id} failed: ${s.error}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** When the data has a sibling test split: base vs adapted WER there, with the default decoding. */
async function scoreTest(adapterDir: string, argv: TrainArgs): Promise<string | undefined> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { loadAdapter } = await import('../adapter/io.js');
  const meta = loadAdapter(adapterDir).meta;
  const testDir = path.join(path.dirname(meta.data.source), 'test');
  if (!fs.existsSync(path.join(testDir, 'transcripts.tsv'))) return undefined;
  const { loadRecognizer } = await import('../pipeline/recognizer.js');
  const { evaluate } = await import('../pipeline/evaluate.js');
  // One load of the model (encoder, LM) for both: the adapted recognizer and its base without the adapter.
  const adapted = await loadRecognizer({ model: argv.model, modelsDir: argv.modelsDir, threads: argv.threads, adapter: adapterDir });
  try {
    const b = await evaluate(adapted.withoutAdapter(), testDir), a = await evaluate(adapted, testDir);
    const rel = b.wer > 0 ? (b.wer - a.wer) / b.wer : 0;
    return `test (${testDir}, ${a.utterances} utterances): base WER ${pct(b.wer)} (CER ${pct(b.cer)})  ->  adapted WER ${pct(a.wer)} (CER ${pct(a.cer)}): ${rel >= 0 ? `${pct(rel)} lower` : `${pct(-rel)} HIGHER`}`;
  } finally {
    await adapted.release();
  }
}
