/**
 * Writes models/base-en/MODEL_CARD.md from what was measured: model.json, eval.json (evaluate.ts),
 * the training history and checkpoint state (train.py), and the corpus manifests.
 * Usage: node dist/recipes/base-en/model-card.js --work WORK --run conv --model models/base-en
 * Without the run (a release that keeps the weights and changes the LM or decoding):
 *   node dist/recipes/base-en/model-card.js --model models/base-en --results-only [--note "what changed"]
 * rewrites only the title, the LM line and the results of the existing card.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const arg = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1];
const work = arg('work'), run = arg('run'), modelDir = arg('model');
const m = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
const ev = JSON.parse(fs.readFileSync(path.join(modelDir, 'eval.json'), 'utf8'));
const phones = !!m.ctcHead.pronunciations;
const p = (x: number): string => `${(100 * x).toFixed(1)}%`;
const results = ev.results as { set: string; default: { wer: number; cer: number; utterances: number; seconds: number; audioSeconds: number }; greedy: { wer: number; cer: number } }[];
const gn: string = ev.greedyDecoding ?? 'greedy';
const r = (k: string) => results.find((x) => x.set.startsWith(k))!;
const target = (k: string, limit: number): string => (r(k).default.wer <= limit ? `met (target WER <= ${p(limit)})` : `MISSED (target WER <= ${p(limit)})`);

const files = ['encoder.onnx', 'head.weight.npy', 'head.bias.npy', 'lm.arpa.gz', 'pronunciations.txt.gz', 'g2p.txt.gz', 'model.json'].filter((f) => fs.existsSync(path.join(modelDir, f)));
const sizeMB = files.reduce((a, f) => a + fs.statSync(path.join(modelDir, f)).size, 0) / 1e6;

/** The LM line, from what recipes/lm/build.sh recorded about the LM (lm.json; absent before base-en 2.4.1). */
function lmBullet(): string {
  const f = path.join(modelDir, 'lm.json');
  const lm = fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) as { order: number; prune: boolean; sentences: number; words: number; kathleenTrain: number; kathleenRepeat: number; ngrams: number[] } : undefined;
  const order = lm ? ['', 'unigram', 'bigram', 'trigram', '4-gram', '5-gram'][lm.order] ?? `${lm.order}-gram` : 'trigram';
  const built = lm ? `${lm.prune ? ', singleton n-grams above bigrams pruned' : ', unpruned'}
  (${lm.ngrams.map((n, i) => `${n.toLocaleString('en-US')} ${i + 1}-grams`).join(', ')}), from ${lm.sentences.toLocaleString('en-US')} sentences (${lm.words.toLocaleString('en-US')} words):` : ', from';
  const kathleen = lm?.kathleenTrain ? `, plus
  Kathleen's ${lm.kathleenTrain} training prompts${lm.kathleenRepeat > 1 ? `, each counted ${lm.kathleenRepeat} times` : ''} (CMU ARCTIC sentences the acoustic model trains on; her dev and test prompts stay out)` : '';
  return `- LM (\`lm.arpa.gz\`): word ${order}, modified Kneser-Ney (IRSTLM)${built} \`../shared/corpora/text\` minus every
  sentence an evaluation reads (all CMU ARCTIC prompts, the TTS dev/test sentences, the accent sentences)${kathleen}; \`recipes/lm/build.sh\`.`;
}

function resultsSection(): string {
  return `## Results

Measured ${ev.date.slice(0, 10)} on ${ev.machine}; command \`node dist/recipes/base-en/evaluate.js --work WORK --model models/base-en\`.
Default decoding of \`adapt-asr eval\` (${ev.decoding ?? 'beam 8 + LM'}: CTC prefix beam search with the bundled word trigram LM${ev.decoding?.includes('lexicon') ? `, spelling only the LM's words${phones ? ' through their cmudict pronunciations' : ''}` : ''}${phones ? ', unigram LM look-ahead in the pronunciation trie and homophones re-chosen over the whole sentence' : ''}; tuned on dev, model.json \`decoding\`: LM weight ${m.decoding?.lmWeight}, word bonus ${m.decoding?.wordBonus}${m.decoding?.blankPenalty ? `, blank penalty ${m.decoding.blankPenalty} nats per frame` : ''}) and ${gn === 'greedy' ? 'greedy decoding' : `the same search without the LM (${gn} over all of cmudict${m.decoding?.noLmWordBonus !== undefined ? `, its own word bonus ${m.decoding.noLmWordBonus} (model.json \`decoding.noLmWordBonus\`, tuned on dev)` : ''}: a phone model has no greedy decoding, and without an LM it cannot tell homophones and word boundaries apart)`}.

| test set | utterances | WER | CER | WER (${gn}) | CER (${gn}) |
| --- | --- | --- | --- | --- | --- |
${results.map((x) => `| ${x.set} | ${x.default.utterances} | ${p(x.default.wer)} | ${p(x.default.cer)} | ${p(x.greedy.wer)} | ${p(x.greedy.cer)} |`).join('\n')}

Targets: (a) ${target('(a)', 0.2)}; (b) ${target('(b)', 0.35)}; (c) ${r('(c)').default.wer > r('(a)').default.wer ? 'worse than (a), as expected for unseen voices' : 'NOT worse than (a)'}; (d) reported as measured.
Encoder + decoding real-time factor on one thread: ${(r('(b)').default.seconds / r('(b)').default.audioSeconds).toFixed(3)} (Kathleen test set).
${realVoices()}
`;
}

/**
 * Real speakers the model never heard, against PocketSphinx's stock model on the same files in the same run:
 * from docs/real-voices.json (bench/real-voices), when it holds this model's version.
 */
function realVoices(): string {
  const f = path.join(path.dirname(modelDir), '..', 'docs', 'real-voices.json');
  if (!fs.existsSync(f)) return '';
  const rv = JSON.parse(fs.readFileSync(f, 'utf8')) as { date: string; machine: string; command: string; rows: { set: string; about: string; utterances: number; system: string; decoding: string; wer: number | null; cer: number | null }[] };
  const mine = `adapt-asr ${m.name} ${m.modelVersion}`;
  const ours = rv.rows.filter((x) => x.system === mine);
  if (ours.length === 0) return '';
  const peer = (set: string) => rv.rows.find((x) => x.set === set && x.system.startsWith('PocketSphinx'));
  const q = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : p(x));
  return `
### Real speakers it never heard

Measured ${rv.date} on ${rv.machine}; command \`npm run build && ${rv.command}\`. PocketSphinx's stock US English model with its own LM, on the same files in the same run.
base-en has heard one real speaker (Kathleen); on other real voices it gets most words wrong.

| test set | utterances | WER | CER | PocketSphinx WER | PocketSphinx CER |
| --- | --- | --- | --- | --- | --- |
${ours.map((x) => `| ${x.about} | ${x.utterances} | ${q(x.wer)} | ${q(x.cer)} | ${q(peer(x.set)?.wer)} | ${q(peer(x.set)?.cer)} |`).join('\n')}
`;
}

if (process.argv.includes('--results-only')) {
  // The run that trained the weights is not needed: keep the card's training sections as they are and
  // rewrite the title, the LM line and the results (a release that changes only decoding or the LM).
  const cardFile = path.join(modelDir, 'MODEL_CARD.md');
  const card = fs.readFileSync(cardFile, 'utf8');
  const a = card.indexOf('\n- LM (`lm.arpa.gz`)'), b = card.indexOf('\n\n', a + 1), c = card.indexOf('## Results\n'), d = card.indexOf('## Limitations');
  if (a < 0 || b < 0 || c < 0 || d < c) throw new Error(`${cardFile}: no LM line, Results or Limitations section to replace`);
  let out = `# Model card: base-en ${m.modelVersion}` + card.slice(card.indexOf('\n'), a + 1) + lmBullet() + card.slice(b, c) + resultsSection() + card.slice(d);
  out = out.replace(/Files: [^;\n]+; [\d.]+ MB in total\./, `Files: ${files.join(', ')}; ${sizeMB.toFixed(1)} MB in total.`);
  // --note TEXT: what this release changed, as a paragraph before ## Architecture (replacing the last one).
  const noteAt = process.argv.indexOf('--note');
  if (noteAt > 0) {
    const open = '<!-- release-note -->', close = '<!-- /release-note -->';
    const block = `${open}\n${process.argv[noteAt + 1]}\n${close}\n\n`;
    const i = out.indexOf(open), j = out.indexOf(close);
    out = i >= 0 && j > i ? out.slice(0, i) + block + out.slice(j + close.length).replace(/^\n+/, '') : out.replace('## Architecture', `${block}## Architecture`);
  }
  fs.writeFileSync(`${cardFile}.tmp`, out);
  fs.renameSync(`${cardFile}.tmp`, cardFile);
  process.stdout.write(`rewrote the title, LM line and results of ${cardFile}\n`);
  process.exit(0);
}
const hist = JSON.parse(fs.readFileSync(path.join(work, 'runs', run, 'history.json'), 'utf8')) as { step: number; minutes: number; dev_cer: number; dev_wer: number }[];
const train = JSON.parse(fs.readFileSync(path.join(work, 'runs', run, 'train-info.json'), 'utf8')) as {
  config: Record<string, unknown>; params: number; steps: number; epochs: number; computeMinutes: number; args: string;
  targets?: string; trainUtterances?: number; trainHours?: number; realRepeat?: number;
  init?: { checkpoint?: string; computeMinutes: number; grown?: boolean; ownMinutes?: number; config?: Record<string, unknown> };
};
// The checkpoint export.py took for this version (best.pt: the best on dev so far, often earlier than the run's last one).
const exportedFile = path.join(work, 'runs', run, `exported-${m.modelVersion}.json`);
const shipped = fs.existsSync(exportedFile)
  ? JSON.parse(fs.readFileSync(exportedFile, 'utf8')) as { version: string; step: number; computeMinutes: number; devError: number }
  : undefined;
const initMin = train.init?.computeMinutes ?? 0;
const ownMin = shipped?.computeMinutes ?? train.computeMinutes;
const totalMin = ownMin + initMin;
/** The notes of the run this one started from (train.py --init / --grow-from), when it kept any. */
const parentNotes = train.init?.checkpoint && fs.existsSync(path.join(path.dirname(train.init.checkpoint), 'NOTES.md'))
  ? fs.readFileSync(path.join(path.dirname(train.init.checkpoint), 'NOTES.md'), 'utf8').trim()
  : undefined;
const notes = fs.existsSync(path.join(work, 'runs', run, 'NOTES.md')) ? fs.readFileSync(path.join(work, 'runs', run, 'NOTES.md'), 'utf8').trim() : undefined;

/** A grown run (train.py --grow-from): the character model, its phone fine-tuning, then the grown model's own training. */
function grownCompute(): string {
  const phoneMin = train.init!.ownMinutes ?? 0, charMin = initMin - phoneMin;
  return `${totalMin.toFixed(0)} CPU-minutes in all: ${charMin.toFixed(0)} training the character model (base-en 1.2.0), ${phoneMin.toFixed(0)} fine-tuning it
to phone targets (at ${train.init!.config?.layers} blocks), then ${ownMin.toFixed(0)} training it grown to ${train.config.layers} blocks (the new blocks
interleaved and starting as identities, so training began at the smaller model's accuracy; ${train.trainUtterances} utterances, ${train.trainHours?.toFixed(1)} h${(train.realRepeat ?? 1) > 1 ? `, Kathleen's counted ${train.realRepeat} times` : ''})`;
}

const bySource = new Map<string, { utts: number; sec: number }>();
for (const line of fs.readFileSync(path.join(work, 'manifests', 'train.jsonl'), 'utf8').trim().split('\n')) {
  const o = JSON.parse(line) as { speaker: string; duration: number };
  const key = o.speaker.startsWith('espeak:') ? `espeak-ng ${o.speaker.slice(7).split('+')[0]}` : o.speaker === 'kathleen' ? 'Kathleen (real speech, x3 with speed perturbation 0.9/1.0/1.1)' : o.speaker.replace(':', ' ');
  const e = bySource.get(key) ?? { utts: 0, sec: 0 };
  bySource.set(key, { utts: e.utts + 1, sec: e.sec + o.duration });
}
const totalH = [...bySource.values()].reduce((a, e) => a + e.sec, 0) / 3600;

const g2p = m.ctcHead.g2p && fs.existsSync(path.join(modelDir, 'g2p.json'))
  ? JSON.parse(fs.readFileSync(path.join(modelDir, 'g2p.json'), 'utf8')) as { date: string; command: string; rules: number; trainWords: number; heldOut: Record<'lettersOnly' | 'partsThenLetters' | 'partsWhereTheyApply', { words: number; wordAccuracy: number; phoneErrorRate: number }> }
  : undefined;
const limitPhones = `- Only words with a cmudict pronunciation, a hotword, or an adapter's training words can be recognised${m.decoding?.lexicon ? ", and by default only the LM's 23k of them" : ''};
  cmudict covers 98.9-99.9% of the test sets' words. A word it lacks is recognised only if a user names it (hotword) or an adapter
  was trained on it, and then with guessed phones (right for about ${g2p ? p(g2p.heldOut.partsThenLetters.wordAccuracy).replace(/\.\d%/, '%') : '?'} of unseen words).
`;

const md = `# Model card: base-en ${m.modelVersion}

The English encoder that adapt-asr ships, with a ${phones ? 'phone CTC head, a pronunciation dictionary' : 'character CTC head'} and a word trigram LM. It is
the frozen base that accent adapters (\`adapt-asr train\`) build on. Everything below was measured
by committed scripts (\`recipes/base-en/\`); the numbers are copied in by \`model-card.ts\`.

## Architecture

- Front end: \`kaldi-fbank-80\` (torchaudio/Kaldi fbank, 25 ms / 10 ms), per-utterance mean and
  variance normalisation (\`lib/features/normalize.ts\`; the recipe trains on features written by
  \`adapt-asr features\`, so training and run-time features are the same code).
- Encoder (\`encoder.onnx\`, ONNX opset 14, kind \`features\`): ${String(train.config.arch)} model: ${train.config.stack} frames stacked
  (${Number(train.config.stack) * 10} ms per output frame), Linear 320 -> ${train.config.d}, LayerNorm, then ${train.config.layers} residual blocks of
  depthwise Conv1d (kernel 15) -> Linear -> LayerNorm -> SiLU. Hidden size ${m.encoder.hiddenSize}.
${phones
    ? `- CTC head (\`head.weight.npy\`, \`head.bias.npy\`): Linear ${m.encoder.hiddenSize} -> ${m.ctcHead.vocab.length} over blank, a word separator and the 39 phones
  of the CMU Pronouncing Dictionary without stress marks (ARPAbet: AA AE AH ... ZH).
- Pronunciations (\`pronunciations.txt.gz\`): cmudict (Debian's pocketsphinx-en-us; BSD-style licence, notice in the file),
  stress removed, 133,515 entries. Words are spelled through it: the beam search follows phone strings in a trie
  of ${m.decoding?.lexicon ? "the LM's words (model.json `decoding.lexicon`)" : "all its words (words outside the LM pay the LM's <unk> cost; `--lexicon` limits the trie to the LM's words)"}
  and, when a word ends, picks the homophone the LM prefers in context. It also gives adapters their training
  targets.${g2p ? `
- Guessed pronunciations (\`g2p.txt.gz\`, \`lib/decode/g2p.ts\`) for words cmudict lacks: by parts (a cmudict word with English
  endings or prefixes, or two cmudict words run together), else by ${g2p.rules.toLocaleString('en-US')} letter-to-phone rules learned from cmudict
  (EM alignment of letters to 0-2 phones, then the longest matching context of up to 4 letters either side). On 1 in 20 cmudict
  words held out of learning (${g2p.heldOut.lettersOnly.words.toLocaleString('en-US')} words; \`${g2p.command}\`, ${g2p.date}): the guess is one of the word's
  pronunciations for ${p(g2p.heldOut.partsThenLetters.wordAccuracy)} (phone error rate ${p(g2p.heldOut.partsThenLetters.phoneErrorRate)}); letters alone ${p(g2p.heldOut.lettersOnly.wordAccuracy)} (${p(g2p.heldOut.lettersOnly.phoneErrorRate)}); by parts,
  where they apply (${g2p.heldOut.partsWhereTheyApply.words.toLocaleString('en-US')} words), ${p(g2p.heldOut.partsWhereTheyApply.wordAccuracy)} (${p(g2p.heldOut.partsWhereTheyApply.phoneErrorRate)}). Adapters train on guessed phones for
  transcript words cmudict lacks (instead of losing those utterances) and keep them for decoding.` : ''}`
    : `- CTC head (\`head.weight.npy\`, \`head.bias.npy\`): Linear ${m.encoder.hiddenSize} -> 29 over blank, space, apostrophe, a-z.`}
${m.trainableTop ? `- Trainable top: the last ${m.trainableTop.blocks.length} blocks also ship as weights (\`top.<j>.*.npy\`), and \`encoder.onnx\` has a second output
  \`${m.trainableTop.output}\` (the hidden states entering them), so \`adapt-asr train --method top\` can fine-tune them per accent
  (\`recipes/base-en/check-export.ts\` checks that the blocks run in JavaScript reproduce the ONNX output).` : ''}
- Parameters: ${(train.params / 1e6).toFixed(2)}M (encoder and head). Files: ${files.join(', ')}; ${sizeMB.toFixed(1)} MB in total.
${lmBullet()}

## Training data (${totalH.toFixed(1)} hours, all generated or recorded offline)

Synthetic speech of ${bySource.size - 1} voice families reading sentences of \`../shared/corpora/text\` (CMU ARCTIC prompts excluded),
with random rate, pitch, gain and, for 40% of utterances, white/pink/brown noise or mains hum at 5-30 dB SNR;
plus the real Kathleen recordings (US English, CC0), speed-perturbed. Held out entirely: the Scottish voices
(flite \`awb\`, espeak-ng \`en-gb-scotland\`), which are the adaptation target, and the real Mandarin-L1 speakers.

| source | utterances | hours |
| --- | --- | --- |
${[...bySource].sort((a, b) => b[1].sec - a[1].sec).map(([k, e]) => `| ${k} | ${e.utts} | ${(e.sec / 3600).toFixed(2)} |`).join('\n')}

## Training

PyTorch (Debian python3-torch ${'1.13'}), CTC loss, AdamW, linear warm-up then cosine decay over the planned compute,
SpecAugment-style masking, batches of about 60 s of audio. Last invocation: \`train.py ${train.args}\`.
Compute spent: ${train.init?.grown ? grownCompute() : phones && initMin ? `${totalMin.toFixed(0)} CPU-minutes in all: ${initMin.toFixed(0)} training the character model (base-en 1.2.0),
then ${train.computeMinutes.toFixed(0)} fine-tuning it to phone targets (new head, whole encoder trained; ${train.trainUtterances} utterances, ${train.trainHours?.toFixed(1)} h: those whose words
are all in cmudict${(train.realRepeat ?? 1) > 1 ? `, Kathleen's counted ${train.realRepeat} times in the last invocation (see the notes below)` : ''})` : `${train.computeMinutes.toFixed(0)} CPU-minutes`} on one thread of a shared 2-core machine (${os.cpus()[0]?.model?.trim()}),
${shipped ? `${shipped.step} steps: the shipped weights are the run's best dev checkpoint, at minute ${shipped.computeMinutes} (the run had spent
${train.computeMinutes.toFixed(0)} minutes when this card was written)` : `${train.steps} steps, ${train.epochs.toFixed(2)} epochs`}. Architecture choice: the first 7 compute-minutes of a Conformer
(d=144, 8 blocks, 2.59M parameters, 7 audio-s/s) and of this convolutional model (22 audio-s/s) were compared at equal
compute: dev CER 1.00 (still emitting only blanks after 57 steps) against 0.695; the convolutional model was kept.

${train.init?.grown && parentNotes ? `### The ${train.init.config?.layers}-block phone model it grew from\n\n${parentNotes}\n\n### Grown to ${train.config.layers} blocks\n\n` : ''}${notes ? notes + '\n\n' : ''}${phones ? `Dev phone error rate and phone-word error rate (greedy, 60 TTS + 60 Kathleen dev utterances whose words are in cmudict) during the ${train.init?.grown ? "grown model's training" : 'phone fine-tuning'}${shipped ? ' (* the shipped checkpoint)' : ''}` : 'Dev CER/WER (greedy, 60 TTS + 60 Kathleen dev utterances) during training'}:

| compute (min) | step | dev ${phones ? 'PER' : 'CER'} | dev WER${phones ? ' (phone words)' : ''} |
| --- | --- | --- | --- |
${hist.map((h) => `| ${h.minutes}${h.step === shipped?.step ? ' *' : ''} | ${h.step} | ${p(h.dev_cer)} | ${p(h.dev_wer)} |`).join('\n')}

${resultsSection()}## Limitations

- Trained for ${totalMin.toFixed(0)} CPU-minutes: far less than such a model needs; accuracy is limited by compute, and
  the recipe resumes to train further (\`HOURS=... bash recipes/base-en/run.sh 5\`, \`PHONE_HOURS=... bash recipes/base-en/run.sh 6\`${train.init?.grown ? ', \`GROW_RUN=' + run + ' GROW_HOURS=... bash recipes/base-en/run.sh 6\`' : ''}).
- Mostly synthetic speech: robotic TTS voices are easier than people; real speech is represented by one US speaker.
  On real speakers it never heard it gets most words wrong ("Real speakers it never heard" above): it is the offline
  default and a demonstration, not a recognizer for real recordings.
- Read sentences only; no conversational speech, no far-field audio, English only, lower-case letters without digits.
${phones ? limitPhones : ''}`;
fs.writeFileSync(path.join(modelDir, 'MODEL_CARD.md.tmp'), md);
fs.renameSync(path.join(modelDir, 'MODEL_CARD.md.tmp'), path.join(modelDir, 'MODEL_CARD.md'));
process.stdout.write(`wrote ${path.join(modelDir, 'MODEL_CARD.md')}\n`);
