/**
 * The README's shell examples, run as written: a changed flag or command breaks this test.
 * Examples that need only bundled files run in README order in a scratch folder (so the main job's
 * `train` makes the adapter that `transcribe` and `eval` then use) and must succeed; examples that
 * name the user's own files (meeting.wav, recordings/) must parse and fail only on the missing file
 * (exit 1 naming it), never as a usage error (exit 2).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = path.join(ROOT, 'dist', 'bin', 'adapt-asr.js');
/** Options whose value is a file or folder the command writes. */
const OUTPUT_OPTIONS = new Set(['--out', '--png', '--out-dir']);

/** Each `adapt-asr` command line of the README's sh blocks, as argv (without `npx adapt-asr`), in order. */
export function readmeCommands(markdown: string): string[][] {
  const out: string[][] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1].split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      const m = /^(?:npx\s+)?adapt-asr\s+(.*)$/.exec(line);
      if (m) out.push(m[1].split(/\s+/));
    }
  }
  return out;
}

/** The inputs an argv names that do not exist relative to `root` (path-like positionals and option values, outputs excepted). */
function missingInputs(argv: string[], root: string): string[] {
  const missing: string[] = [];
  argv.forEach((a, i) => {
    if (a.startsWith('--') || OUTPUT_OPTIONS.has(argv[i - 1])) return;
    const pathLike = a.includes('/') || /\.(wav|txt|tsv|jsonl|onnx|npy|png)$/i.test(a);
    if (pathLike && !fs.existsSync(path.join(root, a))) missing.push(a);
  });
  return missing;
}

describe('README examples', function () {
  this.timeout(900_000);
  const commands = readmeCommands(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));

  it('finds the main job and one example of every command', () => {
    const names = new Set(commands.map((c) => c[0]));
    for (const c of ['train', 'transcribe', 'eval', 'pronounce', 'models', 'rank', 'features', 'info']) assert.ok(names.has(c), `README shows no \`adapt-asr ${c}\``);
    assert.deepEqual(commands[0], ['train', '--accent', 'scottish']);
  });

  it('runs every example: those on bundled files succeed, those on your files fail only for the missing file', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-readme-'));
    try {
      fs.symlinkSync(path.join(ROOT, 'audio-fixtures'), path.join(work, 'audio-fixtures'));
      let ran = 0;
      for (const argv of commands) {
        // A server or a worker does not end by itself: its example is checked through --help here (test/serve and
        // test/queue run them and stop them with SIGTERM).
        const serving = argv[0] === 'serve' || argv[0] === 'worker';
        const r = spawnSync(process.execPath, [BIN, ...argv, ...(serving ? ['--help'] : [])], { cwd: work, encoding: 'utf8', env: { ...process.env, ADAPT_ASR_MODELS_DIR: path.join(work, 'models'), HF_HUB_CACHE: path.join(work, 'hub-cache'), HF_ENDPOINT: 'http://127.0.0.1:9' } }); // the Hub is out of reach: a pull fails in one line
        const what = `adapt-asr ${argv.join(' ')}: exit ${r.status}\n${r.stderr.slice(-800)}`;
        const missing = serving ? [] : missingInputs(argv, ROOT);
        if (missing.length) {
          assert.equal(r.status, 1, what);
          assert.ok(missing.some((m) => r.stderr.includes(m.replace(/\/$/, ''))), `the error names ${missing.join(', ')}: ${what}`);
          continue;
        }
        assert.equal(r.status, 0, what);
        if (serving) assert.match(r.stdout, argv[0] === 'serve' ? /--max-concurrent[\s\S]*--timeout/ : /--data-root[\s\S]*--lock-seconds/, what);
        ran++;
        check(argv, r.stdout, work);
      }
      assert.ok(ran >= 8, `ran ${ran} examples on bundled files`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

/** What each bundled-file example must have produced. */
function check(argv: string[], stdout: string, work: string): void {
  const what = argv.join(' ');
  switch (argv[0]) {
    case 'train': {
      const meta = JSON.parse(fs.readFileSync(path.join(work, 'adapters', 'scottish', 'adapter.json'), 'utf8'));
      assert.equal(meta.accent, 'scottish');
      assert.equal(typeof meta.dev.accepted, 'boolean');
      // The bundled data has a test split: train ends by scoring base and adapted models on it.
      const m = /base WER ([\d.]+)% .*adapted WER ([\d.]+)%/.exec(stdout);
      assert.ok(m, `${what}: no test line in ${stdout}`);
      assert.ok(Number(m[2]) < Number(m[1]), `${what}: ${m[0]}`);
      process.stderr.write(`      (README main job: ${m[0]})\n`);
      break;
    }
    case 'eval':
      if (argv.includes('--json')) {
        const r = JSON.parse(stdout);
        assert.ok(r.wer > 0 && r.wer < 0.5, `${what}: WER ${r.wer}`);
        assert.ok(r.utterances >= 40, `${what}: ${r.utterances} utterances`);
      } else assert.match(stdout, /WER/);
      break;
    case 'transcribe':
      if (argv.includes('json')) {
        const t = JSON.parse(stdout);
        assert.ok(t.words.length > 3 && t.words.every((w: { start: number; end: number }) => w.start <= w.end), what);
      }
      break;
    case 'pronounce':
      assert.match(stdout, /auchtermuchty\s+\/[A-Z ]+\/\s+guessed/);
      assert.match(stdout, /loch\s+\/L AA K\/\s+dictionary/);
      break;
    case 'models':
      assert.match(stdout, /base-en/);
      break;
    case 'rank':
      assert.match(stdout, /recommended: base-en: lowest expected WER/);
      break;
    case 'features':
      assert.ok(fs.statSync(path.join(work, 'feats.npy')).size > 1000 && fs.statSync(path.join(work, 'feats.png')).size > 1000, what);
      break;
    case 'info':
      assert.match(stdout, /adapt-asr \d+\.\d+\.\d+/);
      break;
  }
}
