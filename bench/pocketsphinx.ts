/**
 * bench/pocketsphinx: the classic peer on exactly our adaptation and test data. CMU PocketSphinx
 * with its US English model (Debian pocketsphinx-en-us: PTM acoustic model, en-us.lm.bin, cmudict),
 * before and after SphinxTrain's standard speaker/accent adaptation (sphinx_fe -> bw -> mllr_solve
 * for MLLR, map_adapt + mk_s2sendump for MAP), scored with adapt-asr's own WER code. The
 * adaptation subsets are the ones `adapt-asr train --minutes N --seed 1` takes (subsetMinutes).
 * Side by side with ours from docs/adaptation-results.json (written by bench/adaptation).
 * Needs: apt-get install pocketsphinx pocketsphinx-en-us sphinxtrain sphinxbase-utils python3-numpy
 * Usage: node dist/bench/pocketsphinx.js [--quick]
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset, type Utterance } from '../lib/data/manifest.js';
import { addCounts, rate, scoreUtterance, zeroCounts } from '../lib/eval/wer.js';
import { linePlot } from '../lib/io/plot-png.js';
import { normalizeText } from '../lib/text/normalize.js';
import { estimateSeconds, subsetMinutes } from '../lib/train/data.js';
import { zhManifests, type AdaptationRow } from './adaptation.js';
import { machine, table } from './common.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODEL = '/usr/share/pocketsphinx/model/en-us';
const ST = '/usr/lib/sphinxtrain';

function run(cmd: string, args: string[], log: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  fs.writeFileSync(log, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed (see ${log}): ${r.stderr.split('\n').filter((l) => l.includes('ERROR')).slice(-2).join(' ')}`);
  return r.stderr + r.stdout;
}

/** Decode ids with pocketsphinx_batch in parallel processes; returns id -> text and wall seconds. */
let jobs = os.cpus().length;

async function decode(tmp: string, hmm: string, ids: string[], tag: string, mllr?: string, extra: readonly string[] = []): Promise<{ hyp: Map<string, string>; seconds: number }> {
  const n = Math.min(jobs, ids.length);
  const t0 = performance.now();
  const parts = await Promise.all(Array.from({ length: n }, (_, k) => new Promise<string>((resolve, reject) => {
    const ctl = path.join(tmp, `${tag}.${k}.ctl`), hyp = path.join(tmp, `${tag}.${k}.hyp`);
    fs.writeFileSync(ctl, ids.filter((_, i) => i % n === k).join('\n') + '\n');
    const args = ['-hmm', hmm, '-lm', `${MODEL}/en-us.lm.bin`, '-dict', `${MODEL}/cmudict-en-us.dict`, '-ctl', ctl,
      '-cepdir', path.join(tmp, 'mfc'), '-cepext', '.mfc', '-hyp', hyp, ...(mllr ? ['-mllr', mllr] : []), ...extra];
    const p = spawn('pocketsphinx_batch', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    p.on('close', (code) => (code === 0 ? resolve(hyp) : reject(new Error(`pocketsphinx_batch ${tag}: ${err}`))));
  })));
  const hyp = new Map<string, string>();
  for (const f of parts) {
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      const m = /^(.*)\((\S+) -?\d+\)\s*$/.exec(line);
      if (m) hyp.set(m[2], m[1].trim());
    }
  }
  return { hyp, seconds: (performance.now() - t0) / 1000 };
}

function score(test: Utterance[], ids: Map<string, string>, hyp: Map<string, string>): { wer: number; cer: number } {
  let w = zeroCounts(), c = zeroCounts();
  for (const u of test) {
    const s = scoreUtterance(u.text, hyp.get(ids.get(path.resolve(u.audio))!) ?? '');
    w = addCounts(w, s.words);
    c = addCounts(c, s.chars);
  }
  return { wer: rate(w), cer: rate(c) };
}

/**
 * PocketSphinx's stock model and LM on utterances, as a user runs it: MFCCs by sphinx_fe with the
 * model's feat.params, decoded by pocketsphinx_batch in parallel processes, scored by our WER code.
 * Returns undefined (with the reason) when PocketSphinx is not installed. `extra`: more pocketsphinx_batch
 * flags (e.g. -fwdflat no -bestpath no: its first pass alone).
 */
export async function pocketsphinxStock(utts: Utterance[], extra: readonly string[] = []): Promise<{ wer: number; cer: number; seconds: number; audioSeconds: number; jobs: number } | { missing: string }> {
  const missing = ['pocketsphinx_batch', 'sphinx_fe'].filter((c) => spawnSync('which', [c]).status !== 0);
  if (missing.length || !fs.existsSync(MODEL)) return { missing: missing.join(', ') || MODEL };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-ps-stock-'));
  try {
    const idOf = new Map<string, string>();
    fs.mkdirSync(path.join(tmp, 'wav'));
    fs.mkdirSync(path.join(tmp, 'mfc'));
    for (const u of utts) {
      const id = `u${idOf.size}`;
      idOf.set(path.resolve(u.audio), id);
      fs.symlinkSync(path.resolve(u.audio), path.join(tmp, 'wav', `${id}.wav`));
    }
    const ctl = path.join(tmp, 'all.ctl');
    fs.writeFileSync(ctl, [...idOf.values()].join('\n') + '\n');
    const t0 = performance.now();
    run('sphinx_fe', ['-argfile', path.join(MODEL, 'en-us', 'feat.params'), '-samprate', '16000', '-c', ctl, '-di', path.join(tmp, 'wav'), '-do', path.join(tmp, 'mfc'), '-ei', 'wav', '-eo', 'mfc', '-mswav', 'yes'], path.join(tmp, 'fe.log'));
    const d = await decode(tmp, path.join(MODEL, 'en-us'), [...idOf.values()], 'stock', undefined, extra);
    const seconds = (performance.now() - t0) / 1000;
    return { ...score(utts, idOf, d.hyp), seconds, audioSeconds: utts.reduce((a, u) => a + (u.duration ?? estimateSeconds(u.audio)), 0), jobs };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export interface PeerRow { set: string; minutes: number; used: number; total: number; oov: number; ignored: number; adaptSec: number; base: number; mllr: number; map: number; baseCer: number; mllrCer: number; mapCer: number }

export async function benchPocketsphinx(quick = false, onlySet?: string): Promise<string> {
  const missing = ['pocketsphinx_batch', 'sphinx_fe', 'pocketsphinx_mdef_convert'].filter((c) => spawnSync('which', [c]).status !== 0)
    .concat(['bw', 'mllr_solve', 'map_adapt', 'mk_s2sendump'].filter((c) => !fs.existsSync(path.join(ST, c))));
  if (missing.length || !fs.existsSync(MODEL)) {
    return `## Peer: PocketSphinx + SphinxTrain adaptation (\`bench/pocketsphinx\`)\n\nSkipped: missing ${missing.join(', ') || MODEL} (apt-get install pocketsphinx pocketsphinx-en-us sphinxtrain sphinxbase-utils).\n`;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-bench-ps-'));
  const rows: PeerRow[] = [];
  let audioSec = 0, decodeSec = 0;
  try {
    // The model as shipped, plus the files SphinxTrain needs: a text mdef and mixture_weights.
    const base = path.join(tmp, 'base');
    fs.cpSync(path.join(MODEL, 'en-us'), base, { recursive: true });
    run('pocketsphinx_mdef_convert', ['-text', path.join(base, 'mdef'), path.join(base, 'mdef.txt')], path.join(tmp, 'mdef.log'));
    run('/usr/bin/python3', [path.join(ROOT, 'bench', 'sendump_to_mixw.py'), path.join(base, 'sendump'), path.join(base, 'mixture_weights')], path.join(tmp, 'mixw.log'));
    const dict = new Set(fs.readFileSync(path.join(MODEL, 'cmudict-en-us.dict'), 'utf8').split('\n').map((l) => l.split(' ')[0]));

    const zh = zhManifests(tmp);
    const scot = path.join(ROOT, 'audio-fixtures', 'accents', 'scottish');
    const plans: [string, string, Utterance[], (number | 'all')[]][] = [
      ['scottish', path.join(scot, 'train'), readDataset(path.join(scot, 'test')).utterances, quick ? ['all'] : [1, 2, 5, 'all']],
    ];
    if (zh) plans.push(['zh-L1', zh.train, zh.test, quick ? [5] : [1, 2, 5, 10, 20]]);
    if (onlySet) plans.splice(0, plans.length, ...plans.filter((p) => p[0] === onlySet));

    // One id per audio file; MFCCs for all of them with the model's own front-end settings.
    const idOf = new Map<string, string>(); // absolute audio path -> id
    const wav = path.join(tmp, 'wav');
    fs.mkdirSync(wav);
    fs.mkdirSync(path.join(tmp, 'mfc'));
    const trainSets = new Map(plans.map(([set, train]) => [set, readDataset(train).utterances]));
    for (const [set, , test] of plans) {
      for (const u of [...trainSets.get(set)!, ...test]) {
        if (idOf.has(path.resolve(u.audio))) continue;
        const id = `${set}-${idOf.size}`;
        idOf.set(path.resolve(u.audio), id);
        fs.symlinkSync(path.resolve(u.audio), path.join(wav, `${id}.wav`));
      }
    }
    const all = path.join(tmp, 'all.ctl');
    fs.writeFileSync(all, [...idOf.values()].join('\n') + '\n');
    run('sphinx_fe', ['-argfile', path.join(base, 'feat.params'), '-samprate', '16000', '-c', all, '-di', wav, '-do', path.join(tmp, 'mfc'), '-ei', 'wav', '-eo', 'mfc', '-mswav', 'yes'], path.join(tmp, 'fe.log'));

    for (const [set, , test, sizes] of plans) {
      const testIds = test.map((u) => idOf.get(path.resolve(u.audio))!);
      const b = await decode(tmp, base, testIds, `${set}-base`);
      const baseScore = score(test, idOf, b.hyp);
      audioSec += test.reduce((a, u) => a + estimateSeconds(u.audio), 0);
      decodeSec += b.seconds;
      for (const minutes of sizes) {
        const tag = `${set}-${minutes}`;
        const subset = minutes === 'all' ? trainSets.get(set)! : subsetMinutes(trainSets.get(set)!, minutes, 1);
        // bw needs every word in the dictionary: utterances with other words are left out (counted).
        const usable = subset.filter((u) => normalizeText(u.text).split(' ').every((w) => dict.has(w)));
        const ctl = path.join(tmp, `${tag}.ctl`), lsn = path.join(tmp, `${tag}.lsn`), acc = path.join(tmp, `${tag}-acc`);
        fs.writeFileSync(ctl, usable.map((u) => idOf.get(path.resolve(u.audio))).join('\n') + '\n');
        fs.writeFileSync(lsn, usable.map((u) => `<s> ${normalizeText(u.text)} </s> (${idOf.get(path.resolve(u.audio))})`).join('\n') + '\n');
        fs.mkdirSync(acc);
        const t0 = performance.now();
        const bwOut = run(path.join(ST, 'bw'), ['-hmmdir', base, '-moddeffn', path.join(base, 'mdef.txt'), '-ts2cbfn', '.ptm.', '-feat', '1s_c_d_dd',
          '-svspec', '0-12/13-25/26-38', '-cmn', 'batch', '-agc', 'none', '-dictfn', `${MODEL}/cmudict-en-us.dict`, '-fdictfn', path.join(base, 'noisedict'),
          '-ctlfn', ctl, '-lsnfn', lsn, '-cepdir', path.join(tmp, 'mfc'), '-cepext', 'mfc', '-accumdir', acc], path.join(tmp, `${tag}-bw.log`));
        const ignored = (bwOut.match(/ ignored/g) ?? []).length;
        const mllr = path.join(tmp, `${tag}.mllr`);
        run(path.join(ST, 'mllr_solve'), ['-meanfn', path.join(base, 'means'), '-varfn', path.join(base, 'variances'), '-outmllrfn', mllr, '-accumdir', acc], path.join(tmp, `${tag}-mllr.log`));
        const map = path.join(tmp, `${tag}-map`);
        fs.cpSync(base, map, { recursive: true });
        run(path.join(ST, 'map_adapt'), ['-moddeffn', path.join(base, 'mdef.txt'), '-ts2cbfn', '.ptm.', '-meanfn', path.join(base, 'means'), '-varfn', path.join(base, 'variances'),
          '-mixwfn', path.join(base, 'mixture_weights'), '-tmatfn', path.join(base, 'transition_matrices'), '-accumdir', acc,
          '-mapmeanfn', path.join(map, 'means'), '-mapvarfn', path.join(map, 'variances'), '-mapmixwfn', path.join(map, 'mixture_weights'), '-maptmatfn', path.join(map, 'transition_matrices')], path.join(tmp, `${tag}-map.log`));
        run(path.join(ST, 'mk_s2sendump'), ['-pocketsphinx', 'yes', '-moddeffn', path.join(map, 'mdef.txt'), '-mixwfn', path.join(map, 'mixture_weights'), '-sendumpfn', path.join(map, 'sendump')], path.join(tmp, `${tag}-sendump.log`));
        const adaptSec = (performance.now() - t0) / 1000;
        const ml = await decode(tmp, base, testIds, `${tag}-mllr`, mllr);
        const mp = await decode(tmp, map, testIds, `${tag}-map`);
        const mlScore = score(test, idOf, ml.hyp), mpScore = score(test, idOf, mp.hyp);
        const subsetMin = subset.reduce((a, u) => a + (u.duration ?? estimateSeconds(u.audio)), 0) / 60;
        rows.push({ set, minutes: minutes === 'all' ? Math.round(subsetMin * 10) / 10 : minutes, used: usable.length, total: subset.length, oov: subset.length - usable.length, ignored, adaptSec,
          base: baseScore.wer, mllr: mlScore.wer, map: mpScore.wer, baseCer: baseScore.cer, mllrCer: mlScore.cer, mapCer: mpScore.cer });
        process.stderr.write(`pocketsphinx ${set} ${minutes}: WER ${baseScore.wer.toFixed(3)} -> MLLR ${mlScore.wer.toFixed(3)}, MAP ${mpScore.wer.toFixed(3)}\n`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const results = { date: new Date().toISOString().slice(0, 10), machine: machine(), jobs, decodeSec, audioSec, rows };
  fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(results, null, 1) + '\n');
  return report(results);
}

const RESULTS = path.join(ROOT, 'docs', 'pocketsphinx-results.json');
interface PeerResults { date: string; machine: string; jobs: number; decodeSec: number; audioSec: number; rows: PeerRow[] }

/** The section from saved results (docs/pocketsphinx-results.json) and ours (docs/adaptation-results.json). */
export function report({ date, machine: where, jobs: nJobs, decodeSec, audioSec, rows }: PeerResults): string {
  const oursFile = path.join(ROOT, 'docs', 'adaptation-results.json');
  const ours: AdaptationRow[] = fs.existsSync(oursFile) ? (JSON.parse(fs.readFileSync(oursFile, 'utf8')) as { rows: AdaptationRow[] }).rows : [];
  const p = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const rel = (b: number, a: number): string => `${(100 * (b - a) / b).toFixed(1)}%`;
  // Our rows are matched by minutes; the all-data rows by being the largest of their set (ours count only the minutes
  // a phone model could use: those whose words its dictionary has).
  const largest = (xs: { set: string; minutes: number | string }[], set: string): number => Math.max(...xs.filter((x) => x.set === set).map((x) => Number(x.minutes)));
  const mine = (set: string, minutes: number, method = 'adapter'): AdaptationRow | undefined => {
    const all = minutes === largest(rows, set);
    return ours.find((r) => r.set === set && (r.method ?? 'adapter') === method && (Math.abs(Number(r.minutes) - minutes) < 0.05 || (all && Number(r.minutes) === largest(ours, set))));
  };
  const body = rows.map((r) => {
    const o = mine(r.set, r.minutes), t = mine(r.set, r.minutes, 'top');
    return [r.set, r.minutes, `${r.used} of ${r.total}`, `${p(r.base)} -> ${p(r.mllr)} (${rel(r.base, r.mllr)})`, `${p(r.map)} (${rel(r.base, r.map)})`,
      o ? `${p(o.base.wer)} -> ${p(o.adapted.wer)} (${rel(o.base.wer, o.adapted.wer)})` : 'not measured', t ? `${p(t.adapted.wer)} (${rel(t.base.wer, t.adapted.wer)})` : '-',
      `${r.adaptSec.toFixed(1)} s`, o ? `${o.trainSec.toFixed(0)} s${t ? ` (top ${t.trainSec.toFixed(0)} s)` : ''}` : '-'];
  });
  // The data-efficiency plot: ours and the peer's best adaptation, per set.
  const sets = [...new Set(rows.map((r) => r.set))];
  const colors: [number, number, number][] = [[30, 100, 200], [220, 80, 30], [40, 160, 60], [150, 60, 170]];
  const series = sets.flatMap((s, i) => {
    const rs = rows.filter((r) => r.set === s);
    const os_ = rs.map((r) => mine(s, r.minutes)).filter((o): o is AdaptationRow => !!o);
    return [
      { name: `${s} PocketSphinx MAP`, x: rs.map((r) => r.minutes), y: rs.map((r) => 100 * r.map), color: colors[(2 * i) % 4] },
      ...(os_.length ? [{ name: `${s} adapt-asr`, x: os_.map((o) => Number(o.minutes)), y: os_.map((o) => 100 * o.adapted.wer), color: colors[(2 * i + 1) % 4] }] : []),
    ];
  });
  const docs = path.join(ROOT, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  if (series.length) fs.writeFileSync(path.join(docs, 'data-efficiency-vs-pocketsphinx.png'), linePlot(series, { title: 'WER vs adaptation minutes, vs PocketSphinx', xLabel: 'minutes of adaptation data', yLabel: 'WER %' }));
  return [
    '## Peer: PocketSphinx + SphinxTrain adaptation (`bench/pocketsphinx`)', '',
    `Measured ${date} on ${where}. Command: \`npm run build && node dist/bench/pocketsphinx.js\` (after \`node dist/bench/adaptation.js\`, whose results it reads; \`--report\` rebuilds this section from docs/pocketsphinx-results.json when only ours changed). `
      + 'PocketSphinx 5prealpha (Debian) with its US English PTM model, en-us.lm.bin and cmudict; adaptation as in the CMUSphinx tutorial: sphinx_fe (the model\'s feat.params), bw, then mllr_solve (MLLR, decoded with -mllr) or map_adapt + mk_s2sendump (MAP). '
      + 'Same adaptation subsets (`--minutes N --seed 1`) and test sets as ours, scored by adapt-asr\'s WER code. bw needs every word in the dictionary, so adaptation utterances with words outside cmudict are left out ("used").', '',
    table(['set', 'minutes', 'used', 'PocketSphinx WER base -> MLLR (relative)', 'MAP (relative)', 'adapt-asr WER base -> adapted (relative)', 'adapt-asr --method top', 'PocketSphinx adaptation time', 'adapt-asr train time'], body), '',
    `PocketSphinx decoding speed on the test sets (base model): real-time factor ${(nJobs * decodeSec / audioSec).toFixed(2)} per core (${nJobs} parallel process${nJobs > 1 ? 'es' : ''}).`, '',
    '![WER against minutes of adaptation data, adapt-asr and PocketSphinx](docs/data-efficiency-vs-pocketsphinx.png)', '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const i = process.argv.indexOf('--set'), j = process.argv.indexOf('--jobs');
  if (j > 0) jobs = Number(process.argv[j + 1]);
  if (process.argv.includes('--report')) {
    process.stdout.write(report(JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as PeerResults) + '\n');
    process.exit(0);
  }
  process.stdout.write((await benchPocketsphinx(process.argv.includes('--quick'), i > 0 ? process.argv[i + 1] : undefined)) + '\n');
}
