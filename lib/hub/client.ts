/**
 * The Hugging Face Hub protocol through @huggingface/hub (the Hub's own JavaScript client): resolve a
 * revision to its commit, list a commit's files with their sizes and checksums, and stream a file from
 * a byte offset (a Range request, so an interrupted download resumes). Errors become one line that
 * says what to do: no network, a token needed (401/403), no such repo, revision or file (404).
 * Honours HF_ENDPOINT and HF_TOKEN.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { downloadFile, HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import { ModelError } from '../errors.js';

/** A file of a commit, as the Hub lists it. */
export interface HubFile {
  path: string;
  size: number;
  /** Git blob sha1 of the file as committed. */
  oid: string;
  /** For files in Git LFS (all large ones): the sha256 of the content. */
  lfs?: { oid: string; size: number };
}

/** What the pull needs from the Hub. */
export interface HubClient {
  readonly endpoint: string;
  resolve(revision: string): Promise<string>;
  list(commit: string): Promise<HubFile[]>;
  openFile(file: string, commit: string, offset: number): Promise<AsyncIterable<Uint8Array>>;
}

/** Connection settings: the endpoint (default $HF_ENDPOINT, else https://huggingface.co) and token (default $HF_TOKEN). */
export interface HubOptions { endpoint?: string; token?: string }

/** A client for one model repo ("owner/name"). */
export function hubClient(repo: string, options: HubOptions = {}, env: NodeJS.ProcessEnv = process.env): HubClient {
  const endpoint = (options.endpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const token = options.token ?? env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (token !== undefined && !token.startsWith('hf_')) throw new ModelError('HF_TOKEN must be a Hugging Face access token (it starts with hf_)');
  const common = { repo: { type: 'model' as const, name: repo }, hubUrl: endpoint, ...(token ? { accessToken: token } : {}) };
  const explain = (err: unknown, what: string): never => { throw hubError(err, repo, endpoint, what, !!token); };
  return {
    endpoint,
    async resolve(revision) {
      try {
        const info = await modelInfo({ name: repo, revision, hubUrl: endpoint, ...(token ? { accessToken: token } : {}), additionalFields: ['sha'] });
        const sha = (info as { sha?: string }).sha;
        if (!sha || !/^[0-9a-f]{40}$/.test(sha)) throw new ModelError(`${endpoint} did not say which commit ${repo}@${revision} is`);
        return sha;
      } catch (err) {
        return explain(err, `revision '${revision}'`);
      }
    },
    async list(commit) {
      const files: HubFile[] = [];
      try {
        for await (const e of listFiles({ ...common, revision: commit, recursive: true })) {
          if (e.type === 'file') files.push({ path: e.path, size: e.size, oid: e.oid ?? '', ...(e.lfs ? { lfs: { oid: e.lfs.oid, size: e.lfs.size } } : {}) });
        }
      } catch (err) {
        return explain(err, `the files of commit ${commit.slice(0, 12)}`);
      }
      return files;
    },
    async openFile(file, commit, offset) {
      try {
        const blob = await downloadFile({ ...common, path: file, revision: commit, xet: false });
        if (!blob) throw new ModelError(`${repo} has no file ${file}`);
        const stream = (offset > 0 ? blob.slice(offset) : blob).stream() as unknown as WebReadableStream<Uint8Array>;
        return Readable.fromWeb(stream);
      } catch (err) {
        return explain(err, `file ${file}`);
      }
    },
  };
}

/** One line for an error of the Hub or the network. */
export function hubError(err: unknown, repo: string, endpoint: string, what: string, hadToken: boolean): Error {
  if (err instanceof ModelError) return err;
  if (err instanceof HubApiError) {
    const s = err.statusCode;
    if (s === 401 || s === 403) return new ModelError(`${repo}: access denied by ${endpoint} (HTTP ${s}): ${hadToken ? 'your HF_TOKEN may not reach this repo (a gated model needs its terms accepted on the Hub)' : 'this repo needs a token: set HF_TOKEN to a Hugging Face access token'}`);
    if (s === 404) return new ModelError(`${repo}: not found on ${endpoint} (${what}; HTTP 404): check the repo name, the revision after @ and --file`);
    return new ModelError(`${repo}: ${endpoint} answered HTTP ${s} for ${what}; try again later`);
  }
  const cause = (err as { cause?: { code?: string } })?.cause?.code ?? (err as NodeJS.ErrnoException)?.code;
  const msg = (err as Error)?.message ?? String(err);
  if (cause || /fetch failed|network|ECONN|ENOTFOUND|EAI_AGAIN|socket/i.test(msg)) {
    return new ModelError(`${repo}: cannot reach ${endpoint} (${cause ?? msg.split('\n')[0]}): check the network, or set HF_HUB_OFFLINE=1 to use what is cached`);
  }
  return new ModelError(`${repo}: ${what}: ${msg.split('\n')[0]}`);
}
