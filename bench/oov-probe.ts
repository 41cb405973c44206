/**
 * bench/oov-probe: how much of base-en's test error comes with words outside its LM's vocabulary?
 * Decodes a test manifest with the model's default decoding and splits the word errors between
 * utterances whose reference words are all in the LM and utterances with at least one word outside it.
 * The LM is built from ../shared/corpora/text (29,160 sentences, 23k words): a phone model can still
 * say any cmudict word, at the LM's <unk> cost (lexicon off), but rarely does.
 * With --unk-log10 A,B,...: instead, the WER of all the manifests together with the LM's cost of a word outside
 * it (log10 probability, before back-off; adapt-asr's default -6) set to each value.
 * Usage: node dist/bench/oov-probe.js [--unk-log10 -7,-6,-5] MANIFEST... (e.g. WORK/manifests/kathleen-test.jsonl)
 */
import path from 'node:path';
import { loadAudio } from '../lib/audio/index.js';
import { readDataset } from '../lib/data/manifest.js';
import { ArpaLm } from '../lib/decode/arpa.js';
import { addCounts, rate, scoreUtterance, zeroCounts } from '../lib/eval/wer.js';
import { evaluateVariants } from '../lib/pipeline/evaluate.js';
import { loadRecognizer } from '../lib/index.js';
import { normalizeText } from '../lib/text/normalize.js';
import { machine, table } from './common.js';

/** WER of the manifests' utterances together at each `<unk>` log10 probability. */
async function unkSweep(manifests: string[], values: number[]): Promise<void> {
  const utts = manifests.flatMap((m) => readDataset(m).utterances);
  const load = ArpaLm.load.bind(ArpaLm);
  const rows: string[][] = [];
  try {
    for (const unk of values) {
      ArpaLm.load = (file: string) => load(file, unk); // the recognizer loads its LM through this
      const rec = await loadRecognizer({ model: 'base-en', threads: 1 });
      const [r] = await evaluateVariants(rec, utts, [{}]);
      await rec.release();
      rows.push([String(unk), `${(100 * r.wer).toFixed(2)}%`]);
    }
  } finally {
    ArpaLm.load = load;
  }
  process.stdout.write([`${manifests.map((m) => path.basename(m, '.jsonl')).join(' + ')} (${utts.length} utterances), default decoding:`, '',
    table(['<unk> log10 probability', 'WER'], rows), ''].join('\n'));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const u = argv.indexOf('--unk-log10');
  const unk = u >= 0 ? argv.splice(u, 2)[1].split(',').map(Number) : undefined;
  const manifests = argv;
  if (!manifests.length || unk?.some((x) => !Number.isFinite(x))) throw new Error('usage: oov-probe [--unk-log10 A,B,...] MANIFEST...');
  if (unk) return unkSweep(manifests, unk);
  const rec = await loadRecognizer({ model: 'base-en', threads: 1 });
  const lm = rec.lm;
  if (!lm) throw new Error('the model has no LM');
  const rows: string[][] = [];
  const missed = new Map<string, number>();
  for (const file of manifests) {
    const utts = readDataset(file).utterances;
    let withOov = zeroCounts(), without = zeroCounts();
    let words = 0, oov = 0, oovUtts = 0, oovSaid = 0;
    for (const u of utts) {
      const ref = normalizeText(u.text);
      const outside = ref.split(' ').filter((w) => w && !lm.has(w));
      const hyp = (await rec.transcribe(loadAudio(u.audio))).text;
      const s = scoreUtterance(ref, hyp);
      const said = new Set(normalizeText(hyp).split(' '));
      oovSaid += outside.filter((w) => said.has(w)).length;
      words += s.words.ref;
      oov += outside.length;
      if (outside.length) oovUtts++;
      if (outside.length) withOov = addCounts(withOov, s.words);
      else without = addCounts(without, s.words);
      for (const w of outside) missed.set(w, (missed.get(w) ?? 0) + 1);
    }
    rows.push([path.basename(file, '.jsonl'), String(utts.length), `${(100 * oov / words).toFixed(1)}% (${oov} of ${words})`, String(oovSaid),
      `${oovUtts}: ${(100 * rate(withOov)).toFixed(1)}%`, `${utts.length - oovUtts}: ${(100 * rate(without)).toFixed(1)}%`]);
  }
  await rec.release();
  const examples = [...missed.keys()].slice(0, 24).join(', ');
  process.stdout.write([
    '## Words outside the LM (`bench/oov-probe`, a probe)', '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}. Command: \`node dist/bench/oov-probe.js ${manifests.map((m) => `WORK/manifests/${path.basename(m)}`).join(' ')}\`. `
      + `base-en ${rec.encoder.manifest.modelVersion} with its default decoding (${rec.decodingName()}); "outside the LM": not among the ${[...lm.words()].length.toLocaleString('en-US')} words of lm.arpa.gz.`, '',
    table(['set', 'utterances', 'reference words outside the LM', 'of them in the transcript', 'WER, utterances with such a word', 'WER, utterances without'], rows), '',
    `Some of the words outside the LM: ${examples}.`, '',
  ].join('\n'));
}

main().catch((e: unknown) => {
  process.stderr.write(`oov-probe: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
