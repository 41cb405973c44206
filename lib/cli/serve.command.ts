/** `adapt-asr serve`: the recognizer over HTTP and WebSocket (lib/serve/server.ts). */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface ServeArgs { port: number; host: string; model?: string; modelsDir?: string; adapter?: string[]; accent?: string[]; token?: string; maxConcurrent?: number; maxQueue?: number; maxBodyMb: number; maxSeconds: number; timeout: number; workerHeapMb: number }

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Serve transcription over HTTP (POST /v1/transcribe) and streaming over WebSocket (/v1/stream), with limits; binds to 127.0.0.1 unless told otherwise.',
  builder: (y: Argv) => y
    .option('port', { type: 'number', default: 8080, describe: 'TCP port (0: any free port).' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to bind. Anything but loopback exposes the server to the network: set --token.' })
    .option('model', { type: 'string', describe: 'The model: a name or folder (an export from `adapt-asr export` too). Default: base-en-real, or the adapters\' base model.' })
    .option('models-dir', { type: 'string', describe: 'Folder of your own models.' })
    .option('adapter', { type: 'string', array: true, describe: 'Adapter folders to serve, chosen per request with ?adapter=<accent>. Repeat for several.' })
    .option('accent', { type: 'string', array: true, describe: 'Serve the adapter trained for this accent, ./adapters/<accent>. Repeat for several.' })
    .option('token', { type: 'string', describe: 'Require "Authorization: Bearer <token>" on /v1/* (default: $ADAPT_ASR_TOKEN; none: no check).' })
    .option('max-concurrent', { type: 'number', describe: 'Transcriptions and streams at once, one worker thread each (default: cores, at most 4).' })
    .option('max-queue', { type: 'number', describe: 'Requests that may wait for a worker; beyond them the answer is 503 with Retry-After (default: 4 per worker).' })
    .option('max-body-mb', { type: 'number', default: 50, describe: 'Largest request body in megabytes (413 above).' })
    .option('max-seconds', { type: 'number', default: 600, describe: 'Longest audio of a request or a stream, in seconds (413 above).' })
    .option('timeout', { type: 'number', default: 120, describe: 'Seconds a transcription may take (504 after, and its worker is replaced), and a stream may stay silent.' })
    .option('worker-heap-mb', { type: 'number', default: 512, describe: 'JavaScript heap cap of each worker in megabytes (keeps memory flat; raise it for a model whose LM or dictionary needs more).' })
    .example('$0 serve --accent scottish', 'Then: curl --data-binary @meeting.wav "http://127.0.0.1:8080/v1/transcribe?adapter=scottish"')
    .epilogue('Access log: one JSON line per request on standard output. SIGTERM or Ctrl-C: stop accepting, finish the work in flight, exit.') as unknown as Argv<ServeArgs>,
  handler: async (argv: ArgumentsCamelCase<ServeArgs>) => {
    const { startServer } = await import('../serve/server.js');
    const { UsageError } = await import('../errors.js');
    if (!(argv.maxBodyMb > 0)) throw new UsageError('--max-body-mb must be a positive number');
    const token = argv.token ?? process.env.ADAPT_ASR_TOKEN;
    const fs = await import('node:fs');
    const path = await import('node:path');
    for (const a of argv.accent ?? []) if (!fs.existsSync(path.join('adapters', a, 'adapter.json'))) throw new UsageError(`no adapter for accent '${a}' in ./adapters; train one with \`adapt-asr train --accent ${a}\` or name a folder with --adapter`);
    const adapters = [...(argv.adapter ?? []), ...(argv.accent ?? []).map((a) => path.join('adapters', a))];
    const srv = await startServer({
      port: argv.port, host: argv.host, model: argv.model, modelsDir: argv.modelsDir, adapters, token,
      maxConcurrent: argv.maxConcurrent, maxQueue: argv.maxQueue, maxBodyBytes: Math.floor(argv.maxBodyMb * 2 ** 20), maxAudioSeconds: argv.maxSeconds, timeoutSeconds: argv.timeout, workerHeapMb: argv.workerHeapMb,
    });
    const s = srv.pool.served!;
    process.stderr.write(`adapt-asr: serving ${s.model.name} ${s.model.modelVersion}${s.adapters.length ? ` with adapters ${s.adapters.map((a) => a.name).join(', ')}` : ''} on ${srv.url} (${srv.pool.size} workers${token ? ', token required' : ''})\n`);
    if (!['127.0.0.1', '::1', 'localhost'].includes(argv.host) && !token) process.stderr.write('adapt-asr: warning: listening beyond loopback without --token: anyone who can reach this port can use it\n');
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        process.stderr.write(`adapt-asr: ${signal}: finishing the work in flight\n`);
        void srv.close().then(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    process.stderr.write('adapt-asr: stopped\n');
  },
};
