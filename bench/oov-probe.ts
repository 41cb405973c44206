/**
 * bench/oov-probe: how much of base-en's test error comes with words outside its LM's vocabulary?
 * Decodes a test manifest with the model's default decoding and splits the word errors between
 * utterances whose reference words are all in the LM and utterances with at least one word outside it.
 * The LM is built from ../shared/corpora/text (29,160 sentences, 23k words): a phone model can still
 * say any cmudict word, at the LM's <unk> cost (lexicon off), but rarely does.
 * Usage: node dist/bench/oov-probe.js MANIFEST... (e.g. WORK/manifests/kathleen-test.jsonl)
 */
import path from 'node:path';
import { loadAudio } from '../lib/audio/index.js';
import { readDataset } from '../lib/data/manifest.js';
import { addCounts, rate, scoreUtterance, zeroCounts } from '../lib/eval/wer.js';
import { loadRecognizer } from '../lib/index.js';
import { normalizeText } from '../lib/text/normalize.js';
import { machine, table } from './common.js';

async function main(): Promise<void> {
  const manifests = process.argv.slice(2);
  if (!manifests.length) throw new Error('usage: oov-probe MANIFEST...');
  const rec = await loadRecognizer({ threads: 1 });
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
