/**
 * A static file server for trying the page: dist/web and a folder of exports, on 127.0.0.1.
 *
 *   node dist/examples/web/static-server.js <exports folder> [port]
 *   then open http://127.0.0.1:<port>/   (models.json there lists the exports in the folder)
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** Serve dist/web at / and each export under `exports` at /models/<name>/; models.json lists them. */
export function serveStatic(exports: string, port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const names = fs.readdirSync(exports).filter((d) => fs.existsSync(path.join(exports, d, 'export.json'))).sort();
  const listing = JSON.stringify(names.map((n) => ({ name: n, url: `models/${n}/` })));
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (p === '/models.json') return void res.writeHead(200, { 'content-type': TYPES['.json'] }).end(listing);
    const [root, rel] = p.startsWith('/models/') ? [exports, p.slice('/models/'.length)] : [WEB, p === '/' ? 'index.html' : p.slice(1)];
    const file = path.resolve(root, rel);
    if (!file.startsWith(path.resolve(root) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  })));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [dir, port] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: node dist/examples/web/static-server.js <folder of exports> [port]\n');
    process.exit(2);
  }
  const s = await serveStatic(dir, Number(port ?? 8000));
  process.stderr.write(`open ${s.url}\n`);
}
