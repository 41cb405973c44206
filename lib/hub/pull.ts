/**
 * `adapt-asr models pull <repo>[@revision]`: a model from the Hugging Face Hub, made into a model
 * folder that everything else uses (transcribe, eval, train, rank).
 *
 *   1. resolve the revision to a commit and list its files (or, with HF_HUB_OFFLINE=1, read the cache);
 *   2. read config.json and choose the ONNX file (--file, else by --dtype: fp32 where present, else the smallest);
 *   3. download into the cache (resumable, verified), then convert:
 *      - a CTC model (Wav2Vec2ForCTC, HubertForCTC, WavLMForCTC, Data2VecAudioForCTC): kind `waveform`,
 *        its graph split into an encoder with a hidden-state output and the projection as the base CTC
 *        head; vocab.json becomes the vocabulary (pad = blank, `|` = word separator, <s> </s> <unk> silent);
 *      - WhisperForConditionalGeneration: the encoder only (kind `whisper`; a head must be trained);
 *      - a repo holding an adapt-asr model folder (model.json at its root): as it is;
 *   4. install into the models folder atomically, model.json recording the repo, commit and each file's sha256.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError, UsageError } from '../errors.js';
import { replaceFolder } from '../io/atomic.js';
import { encodeNpy } from '../io/npy.js';
import { sha256File } from '../io/sha256.js';
import { probeEncoder } from '../encoder/import.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, validateManifest, type ModelDir, type ModelManifest, type ModelSource } from '../encoder/manifest.js';
import { loadManifest } from '../encoder/manifest.js';
import { splitCtcGraph } from '../encoder/onnx-split.js';
import { cachedFile, hubCacheDir, readRef, repoCacheDir, writeRef, type DownloadProgress } from './cache.js';
import { hubClient, type HubClient, type HubFile, type HubOptions } from './client.js';

/** Architectures (config.json `architectures[0]`) that pull as CTC models. */
export const CTC_ARCHITECTURES = ['Wav2Vec2ForCTC', 'HubertForCTC', 'WavLMForCTC', 'Data2VecAudioForCTC'] as const;
/** Architectures that pull as encoders only. */
export const ENCODER_ARCHITECTURES = ['WhisperForConditionalGeneration'] as const;
/** ONNX variants by --dtype, as transformers.js names them (file suffixes). */
export const DTYPES = { fp32: [''], fp16: ['_fp16'], q8: ['_quantized', '_int8', '_uint8'], q4: ['_q4', '_bnb4', '_q4f16'] } as const;
export type Dtype = keyof typeof DTYPES;

/** Options of pullModel; repo is "owner/name" or "owner/name@revision". */
export interface PullOptions extends HubOptions {
  repo: string;
  /** The ONNX file in the repo to use (default: chosen by dtype). */
  file?: string;
  dtype?: Dtype;
  /** Name of the model folder (default: the repo's name). */
  name?: string;
  modelsDir: string;
  force?: boolean;
  /** Use only the cache (default: $HF_HUB_OFFLINE is 1 or true). */
  offline?: boolean;
  cacheDir?: string;
  onProgress?: (p: DownloadProgress & { fileIndex: number; files: number; allBytes: number; allTotal: number }) => void;
  onLog?: (line: string) => void;
}

/** What was installed, and what the user must know about it (e.g. that a head must be trained). */
export interface PullResult { model: ModelDir; kind: 'ctc' | 'encoder' | 'adapt-asr'; commit: string; note?: string }

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SPECIAL = new Set(['<s>', '</s>', '<unk>', '<pad>']);

/** Pull a model (see the file comment). */
export async function pullModel(o: PullOptions): Promise<PullResult> {
  const [repo, revision = 'main'] = o.repo.split('@');
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(repo)) throw new UsageError(`'${o.repo}' is not a Hub model repo: give owner/name, e.g. Xenova/wav2vec2-base-960h (optionally @revision)`);
  const name = o.name ?? repo.split('/')[1];
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new UsageError(`--name '${name}' must be letters, digits, '.', '_' or '-'`);
  const target = path.join(o.modelsDir, name);
  if (fs.existsSync(target) && !o.force) throw new UsageError(`a model named '${name}' already exists in ${o.modelsDir}; use --force to replace it (or --name another)`);
  const offline = o.offline ?? /^(1|true|yes)$/i.test(process.env.HF_HUB_OFFLINE ?? '');
  const cache = o.cacheDir ?? hubCacheDir();
  const repoDir = repoCacheDir(cache, repo);
  const log = o.onLog ?? (() => undefined);

  // 1. The commit and its files.
  let commit: string, files: HubFile[], client: HubClient | undefined;
  if (offline) {
    const c = readRef(repoDir, revision);
    if (!c) throw new ModelError(`${repo}@${revision} is not in the cache (${cache}) and HF_HUB_OFFLINE is set: pull it once with the network`);
    commit = c;
    files = cachedListing(repoDir, commit);
  } else {
    client = hubClient(repo, o);
    commit = await client.resolve(revision);
    files = await client.list(commit);
    writeRef(repoDir, revision, commit);
  }
  log(`${repo}@${revision}: commit ${commit.slice(0, 12)}, ${files.length} files${offline ? ' (from the cache)' : ''}`);
  const byPath = new Map(files.map((f) => [f.path, f]));

  // 2. What to fetch.
  const ours = byPath.has('model.json');
  let config: { architectures?: string[]; pad_token_id?: number; word_delimiter_token?: string } = {};
  let onnxFile: string | undefined, arch: string | undefined;
  const fetchList: HubFile[] = [];
  const fetched = new Map<string, string>(); // repo path -> cached blob
  let counter = { bytes: 0, total: 0, index: 0, files: 0 };
  const fetchAll = async (list: HubFile[]): Promise<void> => {
    counter = { bytes: 0, total: list.reduce((a, f) => a + f.size, 0), index: 0, files: list.length };
    for (const f of list) {
      if (fetched.has(f.path)) continue;
      counter.index++;
      const before = counter.bytes;
      fetched.set(f.path, await fetchOne(f, (p) => o.onProgress?.({ ...p, fileIndex: counter.index, files: counter.files, allBytes: before + p.bytes, allTotal: counter.total })));
      counter.bytes = before + f.size;
    }
  };
  const fetchOne = async (f: HubFile, progress: (p: DownloadProgress) => void): Promise<string> => {
    if (offline) {
      const snap = path.join(repoDir, 'snapshots', commit, f.path);
      if (!fs.existsSync(snap)) throw new ModelError(`${repo}@${revision}: ${f.path} is not in the cache and HF_HUB_OFFLINE is set`);
      return snap;
    }
    return cachedFile(client!, repoDir, commit, f, progress);
  };
  if (ours) {
    fetchList.push(...files.filter((f) => !f.path.includes('/') && f.path !== '.gitattributes'));
  } else {
    if (!byPath.has('config.json')) throw new ModelError(`${repo}: no config.json and no model.json: not a transformers or adapt-asr model repo`);
    await fetchAll([byPath.get('config.json')!]);
    config = JSON.parse(fs.readFileSync(fetched.get('config.json')!, 'utf8'));
    arch = config.architectures?.[0];
    const ctc = (CTC_ARCHITECTURES as readonly string[]).includes(arch ?? '');
    const whisper = (ENCODER_ARCHITECTURES as readonly string[]).includes(arch ?? '');
    if (!ctc && !whisper) throw new ModelError(`${repo}: architecture ${arch ?? '(none in config.json)'} is not supported; adapt-asr pulls ${[...CTC_ARCHITECTURES, ...ENCODER_ARCHITECTURES].join(', ')}`);
    const onnxFiles = files.filter((f) => f.path.endsWith('.onnx'));
    if (onnxFiles.length === 0) throw new ModelError(`${repo}: the repo has no ONNX files; adapt-asr runs ONNX models: look for an ONNX export of it (for example under Xenova/ or onnx-community/)`);
    onnxFile = chooseOnnx(onnxFiles, whisper ? 'encoder_model' : 'model', o.file, o.dtype, repo);
    const external = files.filter((f) => f.path.startsWith(`${onnxFile}_data`) || f.path.startsWith(`${onnxFile}.data`) || f.path.startsWith(`${onnxFile!.replace(/\.onnx$/, '')}.onnx_data`));
    fetchList.push(...['vocab.json', 'preprocessor_config.json', 'README.md'].map((p) => byPath.get(p)).filter((f): f is HubFile => !!f), byPath.get(onnxFile)!, ...external);
    if (ctc && !byPath.has('vocab.json')) throw new ModelError(`${repo}: a ${arch} needs vocab.json, which the repo lacks`);
  }
  // 3. Download (resumable, verified).
  await fetchAll(fetchList);
  const source: ModelSource = {
    hub: repo, endpoint: client?.endpoint ?? (process.env.HF_ENDPOINT ?? 'https://huggingface.co'), revision, commit, ...(arch ? { architecture: arch } : {}),
    files: [...fetched].map(([p, blob]) => ({ path: p, size: byPath.get(p)!.size, sha256: byPath.get(p)!.lfs?.oid ?? sha256File(blob) })),
  };

  // 4. Convert into a temporary folder, then install it atomically.
  fs.mkdirSync(o.modelsDir, { recursive: true });
  const tmp = path.join(o.modelsDir, `.${name}.pulling-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  try {
    let kind: PullResult['kind'], note: string | undefined;
    if (ours) {
      for (const [p, blob] of fetched) fs.copyFileSync(blob, path.join(tmp, p));
      const m = JSON.parse(fs.readFileSync(path.join(tmp, 'model.json'), 'utf8')) as ModelManifest;
      m.name = name;
      m.source = { ...source, converted: 'none: an adapt-asr model folder' };
      writeJson(path.join(tmp, 'model.json'), m);
      kind = 'adapt-asr';
    } else if ((CTC_ARCHITECTURES as readonly string[]).includes(arch!)) {
      await convertCtc(tmp, fetched, onnxFile!, config, name, repo, source, log);
      kind = 'ctc';
    } else {
      await convertEncoder(tmp, fetched, onnxFile!, name, repo, source);
      kind = 'encoder';
      note = `${name} is a Whisper encoder without a CTC head: train one before it can transcribe: adapt-asr train --accent en --model ${name} --method head --as-base --data <general English data>`;
    }
    const model = loadManifest(tmp); // validates, and checks the encoder's checksum
    install(tmp, target);
    return { model: { dir: target, manifest: Object.freeze({ ...model.manifest }) }, kind, commit, note };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The files of a cached commit, from its snapshot folder (offline). */
function cachedListing(repoDir: string, commit: string): HubFile[] {
  const root = path.join(repoDir, 'snapshots', commit);
  const out: HubFile[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (fs.existsSync(p)) {
        const oid = path.basename(fs.realpathSync(p));
        out.push({ path: path.relative(root, p).split(path.sep).join('/'), size: fs.statSync(p).size, oid, ...(oid.length === 64 ? { lfs: { oid, size: fs.statSync(p).size } } : {}) });
      }
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out;
}

/** The ONNX file to use: --file, else the dtype's variant of <stem>.onnx (default fp32 where present, else the smallest). */
function chooseOnnx(onnxFiles: HubFile[], stem: string, file: string | undefined, dtype: Dtype | undefined, repo: string): string {
  const list = onnxFiles.map((f) => f.path).join(', ');
  if (file) {
    if (!onnxFiles.some((f) => f.path === file)) throw new ModelError(`${repo}: no file ${file} (ONNX files: ${list})`);
    return file;
  }
  const variant = (d: Dtype): HubFile | undefined => {
    for (const suffix of DTYPES[d]) {
      const f = onnxFiles.find((x) => x.path === `onnx/${stem}${suffix}.onnx` || x.path === `${stem}${suffix}.onnx`);
      if (f) return f;
    }
    return undefined;
  };
  if (dtype) {
    const f = variant(dtype);
    if (!f) throw new ModelError(`${repo}: no ${dtype} variant of ${stem}.onnx (ONNX files: ${list}); choose one with --file`);
    return f.path;
  }
  const fp32 = variant('fp32');
  if (fp32) return fp32.path;
  const candidates = onnxFiles.filter((f) => path.basename(f.path).startsWith(stem));
  if (candidates.length === 0) throw new ModelError(`${repo}: no ${stem}*.onnx among its ONNX files (${list}); choose one with --file`);
  return candidates.sort((a, b) => a.size - b.size)[0].path;
}

/** The vocabulary of a transformers CTC tokenizer (vocab.json, token -> id) as our CTC head's symbols. */
export function ctcVocabulary(vocabJson: Record<string, number>, V: number, padId?: number, delimiter = '|'): { symbols: string[]; blank: number } {
  const symbols = new Array<string>(V).fill('');
  for (const [tok, id] of Object.entries(vocabJson)) if (Number.isInteger(id) && id >= 0 && id < V) symbols[id] = tok;
  const blank = padId ?? symbols.indexOf('<pad>');
  if (!(blank >= 0 && blank < V)) throw new ModelError('vocab.json has no <pad> token (the CTC blank) and config.json no pad_token_id');
  // Specials (<s>, </s>, <unk>, and any other <...> token) are silent: they break a repeat, as in
  // transformers' CTC decoding, but emit nothing. The word delimiter becomes a space; letters go lower case.
  return { symbols: symbols.map((t, i) => (i === blank ? '<blank>' : t === delimiter ? ' ' : SPECIAL.has(t) || /^<.*>$/.test(t) ? '' : t.toLowerCase())), blank };
}

async function convertCtc(tmp: string, fetched: Map<string, string>, onnxFile: string, config: { pad_token_id?: number; word_delimiter_token?: string }, name: string, repo: string, source: ModelSource, log: (s: string) => void): Promise<void> {
  const dtypeHint = onnxFile.endsWith('/model.onnx') ? '' : 'pull the fp32 graph instead: --file onnx/model.onnx (or --dtype fp32)';
  const split = splitCtcGraph(fetched.get(onnxFile)!, 'logits', dtypeHint);
  log(`split ${onnxFile}: encoder output ${split.hiddenOutput} (${split.dim} per frame), CTC head ${split.dim} x ${split.vocabSize} (${split.projection})`);
  fs.writeFileSync(path.join(tmp, 'encoder.onnx'), split.bytes);
  for (const loc of split.externalData) {
    const from = fetched.get(path.posix.join(path.posix.dirname(onnxFile), loc));
    if (!from) throw new ModelError(`${repo}: ${onnxFile} keeps weights in ${loc}, which the repo lacks`);
    fs.copyFileSync(from, path.join(tmp, loc));
  }
  fs.writeFileSync(path.join(tmp, 'head.weight.npy'), Buffer.concat(encodeNpy(split.weight, [split.dim, split.vocabSize])));
  fs.writeFileSync(path.join(tmp, 'head.bias.npy'), Buffer.concat(encodeNpy(split.bias, [split.vocabSize])));
  const vocab = ctcVocabulary(JSON.parse(fs.readFileSync(fetched.get('vocab.json')!, 'utf8')), split.vocabSize, config.pad_token_id, config.word_delimiter_token ?? '|');
  const p = await probeEncoder(path.join(tmp, 'encoder.onnx'), 'waveform', undefined, split.hiddenOutput);
  if (p.dim !== split.dim) throw new ModelError(`${repo}: the hidden state has ${p.dim} values per frame but the head takes ${split.dim}`);
  // Our word LM (from the bundled model) for beam search, when the toolkit has it; greedy decoding needs none.
  const lm = path.join(PACKAGE_ROOT, 'models', 'base-en', 'lm.arpa.gz');
  if (fs.existsSync(lm)) fs.copyFileSync(lm, path.join(tmp, 'lm.arpa.gz'));
  const license = readmeLicense(fetched.get('README.md'));
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT, version: MANIFEST_VERSION, name, modelVersion: source.commit.slice(0, 12),
    description: `${source.architecture} ${repo} from the Hugging Face Hub (${onnxFile}), split into encoder and CTC head`,
    license: license ?? `see https://huggingface.co/${repo}`, trainingData: `see https://huggingface.co/${repo}`,
    frontEnd: { type: 'waveform', normalization: 'utterance' },
    encoder: { file: 'encoder.onnx', sha256: sha256File(path.join(tmp, 'encoder.onnx')), kind: 'waveform', input: p.input, output: { name: split.hiddenOutput, layout: 'BTD', type: 'hidden' }, frameShift: p.frameShift, hiddenSize: p.dim },
    ctcHead: { weights: 'head.weight.npy', bias: 'head.bias.npy', vocab: vocab.symbols, blank: vocab.blank },
    source: { ...source, converted: `graph split at its final projection (${split.projection}); vocab.json mapped: pad -> blank, '|' -> space, specials silent, letters lower case` },
  };
  validateManifest(manifest, path.join(tmp, 'model.json'));
  writeJson(path.join(tmp, 'model.json'), manifest);
}

async function convertEncoder(tmp: string, fetched: Map<string, string>, onnxFile: string, name: string, repo: string, source: ModelSource): Promise<void> {
  const file = fetched.get(onnxFile)!;
  fs.copyFileSync(file, path.join(tmp, 'encoder.onnx'));
  for (const [p, blob] of fetched) if (p !== onnxFile && p.startsWith(onnxFile)) fs.copyFileSync(blob, path.join(tmp, path.posix.basename(p)));
  const p = await probeEncoder(path.join(tmp, 'encoder.onnx'), 'whisper');
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT, version: MANIFEST_VERSION, name, modelVersion: source.commit.slice(0, 12),
    description: `${source.architecture} ${repo} from the Hugging Face Hub: its encoder (${onnxFile}) only`,
    license: readmeLicense(fetched.get('README.md')) ?? `see https://huggingface.co/${repo}`, trainingData: `see https://huggingface.co/${repo}`,
    frontEnd: { type: 'features', preset: p.preset!, normalization: { type: 'none' } },
    encoder: { file: 'encoder.onnx', sha256: sha256File(path.join(tmp, 'encoder.onnx')), kind: 'whisper', input: p.input, output: { name: p.output.name, layout: 'BTD', type: 'hidden' }, frameShift: p.frameShift, hiddenSize: p.dim },
    source: { ...source, converted: 'the encoder graph as it is' },
  };
  validateManifest(manifest, path.join(tmp, 'model.json'));
  writeJson(path.join(tmp, 'model.json'), manifest);
}

/** The licence a model card's YAML header names, if any. */
function readmeLicense(file: string | undefined): string | undefined {
  if (!file) return undefined;
  const m = /^---\n[\s\S]*?^license:\s*(\S+)[\s\S]*?^---/m.exec(fs.readFileSync(file, 'utf8'));
  return m?.[1];
}

function writeJson(file: string, obj: unknown): void {
  fs.writeFileSync(file, JSON.stringify(obj, null, 2) + '\n');
}

/** Rename the finished folder into place (replacing an old one only after the new one is whole). */
function install(tmp: string, target: string): void {
  replaceFolder(tmp, target, `${tmp}.old-${crypto.randomBytes(4).toString('hex')}`);
}
