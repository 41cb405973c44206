/** `adapt-asr worker`: take transcription and training jobs from a Redis queue until SIGTERM. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface WorkerArgs { redis?: string; concurrency?: number; queues: string; dataRoot?: string; outRoot?: string; lockSeconds?: number; threads?: number; name?: string }

export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  describe: 'Take jobs from the Redis queues (`batch submit`, `train --queue`) until stopped; run one per machine, or several. SIGTERM finishes the transcriptions in hand and hands a training run back.',
  builder: (y: Argv) => y
    .option('redis', { type: 'string', default: process.env.ADAPT_ASR_REDIS, defaultDescription: '$ADAPT_ASR_REDIS', describe: 'The Redis server of the queues, e.g. redis://127.0.0.1:6379.' })
    .option('queues', { type: 'string', default: 'transcribe,train', describe: 'Queues to take jobs from, comma-separated.' })
    .option('concurrency', { type: 'number', describe: 'Transcriptions at once, each on its own thread with its own recognizers (default: the cores, at most 4; see docs/scale.md).' })
    .option('data-root', { type: 'string', describe: 'Jobs may read only under this folder (audio, training data, adapters). Required.' })
    .option('out-root', { type: 'string', describe: 'Jobs may write only under this folder (results, adapters). Required.' })
    .option('lock-seconds', { type: 'number', describe: 'A job whose worker has not renewed its lock for this long goes to another worker (default 30).' })
    .option('threads', { type: 'number', describe: 'ONNX Runtime threads per recognizer (default: cores / concurrency).' })
    .option('name', { type: 'string', describe: 'This worker\'s name in logs (default host:pid).' })
    .example('$0 worker --redis redis://queue:6379 --data-root /shared/audio --out-root /shared/results', 'One worker; start one on every machine.') as unknown as Argv<WorkerArgs>,
  handler: async (argv: ArgumentsCamelCase<WorkerArgs>) => {
    const { startQueueWorker } = await import('../queue/worker.js');
    const w = await startQueueWorker({
      redis: argv.redis!, dataRoot: argv.dataRoot!, outRoot: argv.outRoot!, concurrency: argv.concurrency, lockSeconds: argv.lockSeconds, threads: argv.threads, name: argv.name,
      queues: argv.queues.split(',').map((s) => s.trim()).filter(Boolean) as ('transcribe' | 'train')[],
    });
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (sig: string): void => {
        if (stopping) {
          process.stderr.write(`adapt-asr worker: second ${sig}; exiting now (jobs in hand go to another worker when their locks expire)\n`);
          process.exit(1);
        }
        stopping = true;
        process.stderr.write(`adapt-asr worker: ${sig}; finishing the jobs in hand (send it again to exit at once)\n`);
        void w.close().catch((err: Error) => { process.stderr.write(`adapt-asr worker: ${err.message}\n`); }).then(() => {
          resolve();
          // Connections abandoned while Redis was down may still hold timers: do not let them keep a stopped worker alive.
          setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
        });
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
  },
};
