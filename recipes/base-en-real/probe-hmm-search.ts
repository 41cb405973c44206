/**
 * Probe (issue #24): PocketSphinx's acoustic model without base-en-real's trunk. Its senone scores
 * (ptm.onnx, stage 1 of this recipe, on our sphinx-mfcc-13 front end) are decoded by our HMM search
 * (lib/decode/hmm-graph.ts, hmm-search.ts: cross-word triphones, trigram LM; hmm-passes.ts: a second
 * pass over the first's candidate words), beside PocketSphinx itself (its first pass alone, and its
 * default three passes) on the same files in the same run. The search's settings are PocketSphinx's
 * defaults (lw 6.5, then its fwdflat lw 8.5 in the second pass; wip 0.65, silprob 0.005, beams 1e-48
 * and 7e-29, maxhmmpf 30000); nothing was tuned on the sets below.
 *
 * Usage: node dist/recipes/base-en-real/probe-hmm-search.js --work DIR [--shared ../shared]
 *          [--lm FILE[,FILE...]] [--sets kathleen-dev,p239,zh-L1-test,zh-L1-train] [--every N] [--no-peer] [--peer-senones]
 *          [--shipped] [--preset sphinx-mfcc-13|sphinx-mfcc-13-nr] [--second-lookahead W] [--out FILE]
 * DIR holds ptm.onnx and mdef.txt (`bash recipes/base-en-real/run.sh 1`). --lm: ARPA LMs to compare
 * (default the model's pruned LM; PocketSphinx's whole LM as ARPA:
 * `python3 recipes/base-en-real/sphinx_lm.py /usr/share/pocketsphinx/model/en-us/en-us.lm.bin DIR/en-us-full.arpa`).
 * --peer-senones: also decode PocketSphinx's own senone scores (pocketsphinx_batch -senlogdir, on sphinx_fe
 * features without noise removal or silence removal, as ours are) with our search, beside PocketSphinx's first
 * pass on those same scores: which part of the gap is the acoustic scores and which the search.
 * --shipped: base-en-real as shipped (trunk, CTC head, beam search) on the same files.
 * --preset: the front end before ptm.onnx (default sphinx-mfcc-13, base-en-real's; sphinx-mfcc-13-nr adds
 * sphinxbase's noise removal, PocketSphinx's default; its results go to probe-hmm-search-nr.json).
 * Settings are chosen on the dev sets (kathleen-dev, and zh-L1-train: the adaptation speakers, never the test
 * sets): e.g. `--sets zh-L1-train --every 4 --no-peer --lm DIR/en-us-full.arpa --second-lookahead 8.5 --out F`.
 * Writes DIR/probe-hmm-search.json (with --peer-senones: -senones, with --preset sphinx-mfcc-13-nr: -nr; or --out FILE)
 * and prints a markdown table.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAudio } from '../../lib/audio/index.js';
import { ArpaLm } from '../../lib/decode/arpa.js';
import { HmmGraph, parseMdefText, parseTransitions } from '../../lib/decode/hmm-graph.js';
import { hmmSearch } from '../../lib/decode/hmm-search.js';
import { hmmTwoPass, SECOND_PASS, unigramLookAhead } from '../../lib/decode/hmm-passes.js';
import { Pronunciations } from '../../lib/decode/pronunciations.js';
import { createSession } from '../../lib/encoder/session.js';
import { evaluate } from '../../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { addCounts, rate, scoreUtterance, zeroCounts, type ErrorCounts } from '../../lib/eval/wer.js';
import { computeFeatures } from '../../lib/features/index.js';
import { subtractMean } from '../../lib/features/normalize.js';
import type { Utterance } from '../../lib/data/manifest.js';
import { normalizeText } from '../../lib/text/normalize.js';
import { machine } from '../../bench/common.js';
import { pocketsphinxStock } from '../../bench/pocketsphinx.js';
import { realSets, zhL1Split } from '../../bench/real-voices.js';
import { kathleenPrompts } from '../kathleen.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const WORK = path.resolve(arg('work', path.join(process.env.HOME ?? '.', 'adapt-asr-work', 'base-en-real')));
const SHARED = path.resolve(arg('shared', path.join(ROOT, '..', 'shared')));
const PS_MODEL = '/usr/share/pocketsphinx/model/en-us/en-us';
const MODEL = path.join(ROOT, 'models', 'base-en-real');
/** The front end before ptm.onnx: sphinx-mfcc-13 (base-en-real's), or sphinx-mfcc-13-nr (with sphinxbase's noise removal, PocketSphinx's default). */
const PRESET = arg('preset', 'sphinx-mfcc-13');
/** Weight of the second pass's unigram look-ahead (default: hmmTwoPass's, the first pass's LM weight). */
const SECOND_LA = process.argv.includes('--second-lookahead') ? Number(arg('second-lookahead', '')) : undefined;

interface Row { set: string; utterances: number; minutes: number; system: string; wer: number; rtf?: number; peakActive?: number }

function sets(): { name: string; utts: Utterance[] }[] {
  const every = Number(arg('every', '1'));
  const { dir, prompts } = kathleenPrompts(SHARED);
  const all = [
    { name: 'kathleen-dev', utts: prompts.filter((p) => p.split === 'dev').map((p) => ({ id: p.file.replace(/\.wav$/, ''), audio: path.join(dir, p.file), text: normalizeText(p.text) })) },
    ...realSets(SHARED).map((s) => ({ name: s.name === 'zh-L1 test' ? 'zh-L1-test' : s.name, utts: s.utts })),
    // The adaptation speakers: a dev set for the search's settings, as Kathleen dev is.
    { name: 'zh-L1-train', utts: zhL1Split(SHARED, 'train') ?? [] },
  ];
  const want = arg('sets', 'kathleen-dev,p239,zh-L1-test').split(',');
  return all.filter((s) => want.includes(s.name)).map((s) => ({ ...s, utts: s.utts.filter((_, i) => i % every === 0) }));
}

/** ln-likelihood units of PocketSphinx's senone scores (1024 ln 1.0001 nats; best senone 0, larger is worse). */
const SENSCR_UNIT = 1024 * Math.log(1.0001);

/**
 * PocketSphinx's own senone scores for utts: sphinx_fe (feat.params, no noise or silence removal), then
 * pocketsphinx_batch -senlogdir (every senone, top-4, first pass only) in 2 processes. Returns a reader of
 * utterance i's scores (T, S) as ln-likelihoods, the first pass's texts, and a clean-up.
 */
async function pocketsphinxSenones(utts: Utterance[], S: number): Promise<{ read(i: number): { data: Float32Array; T: number }; hyp: string[]; done(): void }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-probe-sen-'));
  fs.mkdirSync(path.join(tmp, 'wav')); fs.mkdirSync(path.join(tmp, 'mfc'));
  utts.forEach((u, i) => fs.symlinkSync(path.resolve(u.audio), path.join(tmp, 'wav', `u${i}.wav`)));
  const ids = utts.map((_, i) => `u${i}`);
  fs.writeFileSync(path.join(tmp, 'all.ctl'), ids.join('\n') + '\n');
  const fe = spawnSync('sphinx_fe', ['-argfile', path.join(PS_MODEL, 'feat.params'), '-samprate', '16000', '-c', path.join(tmp, 'all.ctl'), '-di', path.join(tmp, 'wav'), '-do', path.join(tmp, 'mfc'), '-ei', 'wav', '-eo', 'mfc', '-mswav', 'yes', '-remove_noise', 'no', '-remove_silence', 'no'], { encoding: 'utf8' });
  if (fe.status !== 0) throw new Error(`sphinx_fe failed: ${fe.stderr.slice(-300)}`);
  const parts = 2;
  await Promise.all(Array.from({ length: parts }, (_, k) => new Promise<void>((resolve, reject) => {
    fs.writeFileSync(path.join(tmp, `${k}.ctl`), ids.filter((_, i) => i % parts === k).join('\n') + '\n');
    fs.mkdirSync(path.join(tmp, `sen${k}`));
    const p = spawn('pocketsphinx_batch', ['-adcin', 'no', '-cepdir', path.join(tmp, 'mfc'), '-cepext', '.mfc', '-ctl', path.join(tmp, `${k}.ctl`), '-hmm', PS_MODEL,
      '-lm', path.join(PS_MODEL, '..', 'en-us.lm.bin'), '-dict', path.join(PS_MODEL, '..', 'cmudict-en-us.dict'), '-senlogdir', path.join(tmp, `sen${k}`), '-compallsen', 'yes',
      '-topn', '4', '-pl_window', '0', '-fwdflat', 'no', '-bestpath', 'no', '-hyp', path.join(tmp, `${k}.hyp`)], { stdio: 'ignore' });
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`pocketsphinx_batch exited with ${code}`))));
  })));
  const hyp: string[] = [];
  for (let k = 0; k < parts; k++) {
    fs.readFileSync(path.join(tmp, `${k}.hyp`), 'utf8').split('\n').forEach((line) => {
      const m = /^(.*)\((u\d+) -?\d+\)\s*$/.exec(line);
      if (m) hyp[Number(m[2].slice(1))] = m[1].trim().replace(/\(\d+\)/g, '');
    });
  }
  return {
    hyp,
    read(i: number) {
      // -senlogdir: a header ending "endhdr\n", a byte-order word, then per frame int16 n and n int16 scores.
      const k = i % parts, raw = fs.readFileSync(path.join(tmp, `sen${k}`, `${String(Math.floor(i / parts)).padStart(9, '0')}.sen`));
      const o = raw.indexOf('endhdr\n') + 11;
      const rows: number[] = [];
      for (let at = o; at < raw.length; at += 2 + 2 * raw.readInt16LE(at)) rows.push(at);
      const data = new Float32Array(rows.length * S);
      rows.forEach((at, t) => { const n = raw.readInt16LE(at); for (let s = 0; s < n; s++) data[t * S + s] = -raw.readInt16LE(at + 2 + 2 * s) * SENSCR_UNIT; });
      return { data, T: rows.length };
    },
    done: () => fs.rmSync(tmp, { recursive: true, force: true }),
  };
}

async function main(): Promise<void> {
  for (const f of ['ptm.onnx', 'mdef.txt']) if (!fs.existsSync(path.join(WORK, f))) throw new Error(`${path.join(WORK, f)} is missing: run \`bash recipes/base-en-real/run.sh 1\` first`);
  const topo = { ...parseMdefText(fs.readFileSync(path.join(WORK, 'mdef.txt'), 'utf8'), path.join(WORK, 'mdef.txt')), ...parseTransitions(fs.readFileSync(path.join(PS_MODEL, 'transition_matrices')), path.join(PS_MODEL, 'transition_matrices')) };
  const manifest = JSON.parse(fs.readFileSync(path.join(MODEL, 'model.json'), 'utf8'));
  const pron = Pronunciations.forModel(MODEL, manifest.ctcHead)!;
  const lms = arg('lm', path.join(MODEL, 'lm.arpa.gz')).split(',');
  const searches = lms.map((file) => {
    const t0 = performance.now();
    const lm = ArpaLm.load(file);
    const words: string[] = [], prons: [number, readonly string[]][] = [];
    for (const w of lm.words()) {
      const ps = pron.of(w);
      if (!ps) continue;
      for (const p of ps) prons.push([words.length, p]);
      words.push(w);
    }
    const graph = HmmGraph.build(topo, prons, unigramLookAhead(lm, words, 6.5));
    const name = path.resolve(file) === path.join(MODEL, 'lm.arpa.gz') ? "base-en-real's LM (pruned: 400k bigrams, 200k trigrams)" : path.basename(file);
    console.error(`${name}: ${words.length} words, ${graph.size} HMMs, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { name, lm, words, graph, prons: (w: number) => pron.of(words[w]) };
  });
  const session = await createSession(path.join(WORK, 'ptm.onnx'), { threads: 1 });
  const rows: Row[] = [];
  for (const s of sets()) {
    // Per LM: the first pass alone, and the two passes (the second over the first's candidates at PocketSphinx's fwdflat LM weight).
    const counts: ErrorCounts[] = searches.map(() => zeroCounts()), counts2: ErrorCounts[] = searches.map(() => zeroCounts());
    const seconds = searches.map(() => 0), seconds2 = searches.map(() => 0), peaks = searches.map(() => 0);
    let audio = 0, enc = 0;
    for (const u of s.utts) {
      const a = loadAudio(u.audio, { sampleRate: 16000 });
      audio += a.samples.length / 16000;
      const x = computeFeatures({ samples: a.samples, sampleRate: 16000 }, PRESET);
      subtractMean(x.data, x.numFrames, x.dim);
      let t0 = performance.now();
      const out = await session.run('features', x.data, [1, x.numFrames, x.dim], 'senone_loglik');
      enc += performance.now() - t0;
      searches.forEach((h, k) => {
        const r = hmmTwoPass(h.graph, out.data, out.dims[1], out.dims[2], 0.01, { lm: h.lm, words: h.words, prons: h.prons, secondLookAhead: SECOND_LA });
        seconds[k] += r.seconds.first;
        seconds2[k] += r.seconds.first + r.seconds.second;
        peaks[k] = Math.max(peaks[k], r.peakActive);
        counts[k] = addCounts(counts[k], scoreUtterance(u.text, r.firstPass.map((w) => w.word).join(' ')).words);
        counts2[k] = addCounts(counts2[k], scoreUtterance(u.text, r.words.map((w) => w.word).join(' ')).words);
      });
    }
    searches.forEach((h, k) => {
      rows.push({ set: s.name, utterances: s.utts.length, minutes: audio / 60, system: `PocketSphinx's acoustic model (ptm.onnx on ${PRESET}) + adapt-asr HMM search, first pass, ${h.name}`, wer: rate(counts[k]), rtf: (enc / 1000 + seconds[k]) / audio, peakActive: peaks[k] });
      rows.push({ set: s.name, utterances: s.utts.length, minutes: audio / 60, system: `PocketSphinx's acoustic model (ptm.onnx on ${PRESET}) + adapt-asr HMM search, two passes (second at LM weight ${SECOND_PASS.lmWeight}), ${h.name}`, wer: rate(counts2[k]), rtf: (enc / 1000 + seconds2[k]) / audio, peakActive: peaks[k] });
      console.error(`${s.name} ${h.name}: WER first pass ${(100 * rate(counts[k])).toFixed(1)}%, two passes ${(100 * rate(counts2[k])).toFixed(1)}%, RTF ${((enc / 1000 + seconds2[k]) / audio).toFixed(3)} (encoder ${(enc / 1000 / audio).toFixed(3)})`);
    });
    if (process.argv.includes('--shipped')) {
      // base-en-real as shipped (its trunk, CTC head and beam search), on the same files.
      const rec = await loadRecognizer({ model: 'base-en-real', threads: 1 });
      try {
        const r = await evaluate(rec, s.utts);
        rows.push({ set: s.name, utterances: s.utts.length, minutes: audio / 60, system: `adapt-asr base-en-real ${rec.encoder.manifest.modelVersion} as shipped (${rec.decodingName()})`, wer: r.wer, rtf: r.seconds / r.audioSeconds });
        console.error(`${s.name} base-en-real as shipped: WER ${(100 * r.wer).toFixed(1)}%`);
      } finally {
        await rec.release();
      }
    }
    if (process.argv.includes('--peer-senones')) {
      const ps = await pocketsphinxSenones(s.utts, topo.senones);
      try {
        const c = searches.map(() => zeroCounts());
        let first = zeroCounts();
        s.utts.forEach((u, i) => {
          const { data, T } = ps.read(i);
          searches.forEach((h, k) => { c[k] = addCounts(c[k], scoreUtterance(u.text, hmmSearch(h.graph, data, T, topo.senones, 0.01, { lm: h.lm, words: h.words }).words.map((w) => w.word).join(' ')).words); });
          first = addCounts(first, scoreUtterance(u.text, ps.hyp[i] ?? '').words);
        });
        searches.forEach((h, k) => rows.push({ set: s.name, utterances: s.utts.length, minutes: audio / 60, system: `PocketSphinx's own senone scores + adapt-asr HMM search, ${h.name}`, wer: rate(c[k]) }));
        rows.push({ set: s.name, utterances: s.utts.length, minutes: audio / 60, system: 'PocketSphinx, first pass only, on those senone scores (no noise or silence removal, top-4, no phone look-ahead), its own LM', wer: rate(first) });
        console.error(`${s.name} PocketSphinx senones: ours ${c.map((x) => (100 * rate(x)).toFixed(1)).join(' / ')}%, its first pass ${(100 * rate(first)).toFixed(1)}%`);
      } finally {
        ps.done();
      }
    }
    if (process.argv.includes('--no-peer')) continue;
    for (const [label, extra] of [['PocketSphinx, first pass only (-fwdflat no -bestpath no)', ['-fwdflat', 'no', '-bestpath', 'no']], ['PocketSphinx, default (three passes)', []]] as const) {
      const ps = await pocketsphinxStock(s.utts, extra);
      if ('missing' in ps) { console.error(`PocketSphinx: ${ps.missing} missing`); continue; }
      rows.push({ set: s.name, utterances: s.utts.length, minutes: ps.audioSeconds / 60, system: `${label}, its own LM (en-us.lm.bin)`, wer: ps.wer, rtf: (ps.jobs * ps.seconds) / ps.audioSeconds });
      console.error(`${s.name} ${label}: WER ${(100 * ps.wer).toFixed(1)}%`);
    }
  }
  await session.release();
  const result = { date: new Date().toISOString().slice(0, 10), machine: machine(), command: `node dist/recipes/base-en-real/probe-hmm-search.js ${process.argv.slice(2).join(' ')}`, rows };
  const file = process.argv.includes('--out') ? path.resolve(arg('out', '')) : path.join(WORK, `probe-hmm-search${process.argv.includes('--peer-senones') ? '-senones' : ''}${PRESET === 'sphinx-mfcc-13' ? '' : `-${PRESET.replace('sphinx-mfcc-13-', '')}`}.json`);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 1) + '\n');
  fs.renameSync(`${file}.tmp`, file);
  console.log('| set | utterances | minutes | system | WER | RTF (1 core) |\n| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.set} | ${r.utterances} | ${r.minutes.toFixed(1)} | ${r.system} | ${(100 * r.wer).toFixed(1)}% | ${r.rtf?.toFixed(3) ?? '-'} |`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
