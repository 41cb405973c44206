/**
 * Embedding adapt-asr in a Node voice app: an HTTP endpoint that receives a WAV file and returns
 * its transcript as JSON. One recognizer serves all requests (transcribe may run concurrently).
 *
 *   node dist/examples/http-server.js 8080 [--model base-en-real] [--adapter adapters/scottish]
 *   curl --data-binary @meeting.wav http://127.0.0.1:8080/transcribe
 */
import http from 'node:http';
import { decodeWav, InputError, loadRecognizer, type RecognizerOptions } from 'adapt-asr';

const MAX_BYTES = 50 * 1024 * 1024;

export async function startServer(port = 0, options: RecognizerOptions = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const recognizer = await loadRecognizer(options);
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: object): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/transcribe') return reply(404, { error: 'POST a WAV file to /transcribe' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BYTES) { reply(413, { error: `audio over ${MAX_BYTES} bytes` }); req.destroy(); } else chunks.push(c);
    });
    req.on('end', async () => {
      if (res.headersSent) return;
      try {
        const audio = decodeWav(Buffer.concat(chunks), 'request body');
        const { text, words, duration } = await recognizer.transcribe(audio);
        reply(200, { text, words, duration });
      } catch (err) {
        reply(err instanceof InputError ? 400 : 500, { error: (err as Error).message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${actual}/transcribe`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await recognizer.release();
    },
  };
}

if (process.argv[1]?.endsWith('http-server.js')) {
  const arg = (name: string): string | undefined => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
  const { url } = await startServer(Number(process.argv[2] ?? 8080), { model: arg('model'), adapter: arg('adapter') });
  process.stdout.write(`listening: POST a WAV file to ${url}\n`);
}
