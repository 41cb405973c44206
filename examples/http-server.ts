/**
 * Embedding adapt-asr's server in a Node app (what `adapt-asr serve` runs): limits, token, workers,
 * WebSocket streaming and graceful shutdown come with it (docs/serving.md).
 *
 *   node dist/examples/http-server.js 8080 [adapters/scottish ...]
 *   curl --data-binary @meeting.wav "http://127.0.0.1:8080/v1/transcribe?adapter=scottish"
 */
import { startServer } from 'adapt-asr';

const [port = '8080', ...adapters] = process.argv.slice(2);
const server = await startServer({ port: Number(port), adapters, maxConcurrent: 2 });
console.error(`listening on ${server.url}`);
process.once('SIGTERM', () => void server.close());
