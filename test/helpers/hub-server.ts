/**
 * A local HTTP server that speaks the Hugging Face Hub's protocol as @huggingface/hub uses it, over the
 * repos in test/fixtures/hub (each served as test/<folder>):
 *   GET /api/models/<repo>/revision/<rev>        model info with the commit sha (404 for an unknown repo or revision)
 *   GET /api/models/<repo>/tree/<rev>?recursive  the file listing (size, git oid, lfs {oid, size}), paginated by a Link header
 *   GET /<repo>/resolve/<rev>/<path>             small files directly (ETag = git oid); LFS files by a 302 to /cdn/<sha256>,
 *                                                 with X-Repo-Commit, X-Linked-Size and X-Linked-ETag
 *   GET /cdn/<sha256>                            the content, with Range requests (206)
 * test/private needs `Authorization: Bearer hf_test` (401 otherwise). Knobs for failure tests: cut a CDN
 * response after N bytes once, tamper with a file, and count the requests.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface HubFixtureServer {
  url: string;
  /** Requests served, by path (no query). */
  requests: string[];
  /** The next CDN response for a file whose path ends with this is cut after `bytes` bytes. */
  cutOnce?: { suffix: string; bytes: number };
  /** Serve these bytes instead of the file's content (its listing keeps the real checksum). */
  tamper?: { suffix: string };
  /** Extra files (path in repo -> absolute file) per repo folder, e.g. a large one for benchmarks. */
  extra: Map<string, Map<string, string>>;
  commitOf(repo: string): string;
  close(): Promise<void>;
}

const LFS = (p: string, size: number): boolean => size > 1024 || /\.(onnx|onnx_data|npy|bin)$/.test(p);
const sha = (algo: string, data: Buffer | string): string => crypto.createHash(algo).update(data).digest('hex');

function walk(root: string, dir = root): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(root, path.join(dir, e.name)) : [path.relative(root, path.join(dir, e.name)).split(path.sep).join('/')]));
}

/** Start the server on a free loopback port over `fixtures` (default test/fixtures/hub). */
export async function startHubServer(fixtures: string): Promise<HubFixtureServer> {
  const files = new Map<string, { abs: string; size: number; oid: string; sha256: string }>(); // "repo/path" -> file
  const byHash = new Map<string, string>();
  const index = (repoDir: string, repo: string, rel: string, abs: string): void => {
    const size = fs.statSync(abs).size;
    const small = size <= 1024 * 1024 ? fs.readFileSync(abs) : undefined;
    const sha256 = small ? sha('sha256', small) : sha256Stream(abs);
    const oid = small ? sha('sha1', Buffer.concat([Buffer.from(`blob ${size}\0`), small])) : sha('sha1', `${repo}/${rel}`);
    files.set(`${repo}/${rel}`, { abs, size, oid, sha256 });
    byHash.set(sha256, abs);
  };
  const repos = fs.readdirSync(fixtures).filter((d) => fs.statSync(path.join(fixtures, d)).isDirectory());
  for (const d of repos) for (const rel of walk(path.join(fixtures, d))) index(path.join(fixtures, d), `test/${d}`, rel, path.join(fixtures, d, rel));
  for (const rel of walk(path.join(fixtures, 'wav2vec2-ctc'))) index(path.join(fixtures, 'wav2vec2-ctc'), 'test/private', rel, path.join(fixtures, 'wav2vec2-ctc', rel));
  const repoNames = new Set([...repos.map((d) => `test/${d}`), 'test/private']);
  const commitOf = (repo: string): string => sha('sha1', `commit of ${repo}`);

  const state: HubFixtureServer = {
    url: '', requests: [], extra: new Map(), commitOf, close: async () => undefined,
  };
  const addExtra = (): void => {
    for (const [repo, m] of state.extra) for (const [rel, abs] of m) if (!files.has(`${repo}/${rel}`)) { index('', repo, rel, abs); repoNames.add(repo); }
  };
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    addExtra();
    const url = new URL(req.url ?? '/', 'http://x');
    state.requests.push(url.pathname);
    const m = /^\/(?:api\/models\/)?([^/]+\/[^/]+)\/(revision|tree|resolve)\/([^/]+)\/?(.*)$/.exec(url.pathname);
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) { res.setHeader('ETag', `"${cdn[1]}"`); return serveContent(req, res, state, byHash.get(cdn[1])); }
    if (!m) return json(res, 404, { error: 'Not found' });
    const [, repo, what, rev, rest] = m;
    if (!repoNames.has(repo)) return json(res, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
    if (repo === 'test/private' && req.headers.authorization !== 'Bearer hf_test') return json(res, 401, { error: 'Invalid credentials in Authorization header' });
    const commit = commitOf(repo);
    if (rev !== 'main' && rev !== commit && decodeURIComponent(rev) !== 'main') return json(res, 404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound' });
    const entries = [...files].filter(([k]) => k.startsWith(`${repo}/`)).map(([k, f]) => ({ path: k.slice(repo.length + 1), ...f }));
    if (what === 'revision') return json(res, 200, { _id: sha('sha1', repo).slice(0, 24), id: repo, sha: commit, private: repo === 'test/private', pipeline_tag: 'automatic-speech-recognition', downloads: 0, likes: 0, lastModified: '2026-12-07T00:00:00.000Z' });
    if (what === 'tree') {
      const all = entries.map((e) => ({ type: 'file', path: e.path, size: e.size, oid: e.oid, ...(LFS(e.path, e.size) ? { lfs: { oid: e.sha256, size: e.size, pointerSize: 134 } } : {}) }));
      const page = Number(url.searchParams.get('page') ?? 0), per = 8;
      const next = (page + 1) * per < all.length ? `<${state.url}${url.pathname}?recursive=true&expand=false&page=${page + 1}>; rel="next"` : undefined;
      return json(res, 200, all.slice(page * per, (page + 1) * per), next ? { Link: next } : {});
    }
    const f = entries.find((e) => e.path === decodeURIComponent(rest));
    if (!f) return json(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
    if (LFS(f.path, f.size)) {
      res.writeHead(302, { Location: `${state.url}/cdn/${f.sha256}`, 'X-Repo-Commit': commit, 'X-Linked-Size': String(f.size), 'X-Linked-ETag': `"${f.sha256}"`, ETag: `"${f.oid}"` });
      return res.end();
    }
    res.setHeader('X-Repo-Commit', commit);
    res.setHeader('ETag', `"${f.oid}"`);
    return serveContent(req, res, state, f.abs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return state;
}

function sha256Stream(abs: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(abs, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** The bytes of a file, whole or a Range, honouring the cut and tamper knobs. */
function serveContent(req: http.IncomingMessage, res: http.ServerResponse, state: HubFixtureServer, abs: string | undefined): void {
  if (!abs) { res.writeHead(404); res.end(); return; }
  const size = fs.statSync(abs).size;
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0, end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  if (start > end && size > 0) { res.writeHead(416, { 'Content-Range': `bytes */${size}` }); res.end(); return; }
  res.writeHead(range ? 206 : 200, { 'Content-Length': String(end - start + 1), 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream', ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}) });
  if (req.method === 'HEAD') { res.end(); return; }
  const tamper = state.tamper && abs.endsWith(state.tamper.suffix);
  const cut = state.cutOnce && abs.endsWith(state.cutOnce.suffix) && end - start + 1 > state.cutOnce.bytes ? state.cutOnce.bytes : undefined;
  if (cut !== undefined) state.cutOnce = undefined;
  const stream = fs.createReadStream(abs, { start, end, highWaterMark: 64 * 1024 });
  let sent = 0;
  stream.on('data', (chunk) => {
    let b = chunk as Buffer;
    if (tamper) b = Buffer.from(b.map((x) => x ^ 0x5a));
    if (cut !== undefined && sent + b.length > cut) {
      stream.destroy();
      res.write(b.subarray(0, cut - sent), () => setTimeout(() => res.socket?.destroy(), 100)); // the first bytes arrive, then the connection drops
      return;
    }
    sent += b.length;
    if (!res.write(b)) { stream.pause(); res.once('drain', () => stream.resume()); }
  });
  stream.on('end', () => res.end());
}
