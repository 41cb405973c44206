/**
 * Stage 2 of recipes/base-en-real: run the PocketSphinx acoustic model (ptm.onnx, stage 1) over the
 * training recordings and keep its 126 phone-state log posteriors per 10 ms frame, for the trunk and
 * head that stage 3 trains. Kathleen only (the one real speaker that may be trained on), split as
 * recipes/base-en splits her: every 8th prompt (sorted by file) test, every 8th offset by 4 dev, the
 * rest train; training prompts also at speed 0.9 and 1.1 (resampled, as sox speed does).
 *
 * Usage: node dist/recipes/base-en-real/encode.js --work DIR [--shared ../shared] [--part 0/2] [--list utts.jsonl]
 * Writes DIR/states/<id>.npy (frames, 190) and DIR/utts-<part>.jsonl {id, split, text, npy, frames};
 * part 0 also DIR/kathleen-{dev,test}.jsonl (NeMo manifests).
 * Resumes: an utterance whose .npy exists is not encoded again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadAudio, resample } from '../../lib/audio/index.js';
import { createSession } from '../../lib/encoder/session.js';
import { computeFeatures } from '../../lib/features/index.js';
import { subtractMean } from '../../lib/features/normalize.js';
import { readNpy, writeNpy } from '../../lib/io/npy.js';
import { normalizeText } from '../../lib/text/normalize.js';
import { kathleenPrompts } from '../kathleen.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const WORK = path.resolve(arg('work', path.join(process.env.HOME ?? '.', 'adapt-asr-work', 'base-en-real')));
const SHARED = path.resolve(arg('shared', '../shared'));
const [PART, PARTS] = arg('part', '0/1').split('/').map(Number);

interface Utt { id: string; split: 'train' | 'dev' | 'test'; file: string; speed: number; text: string }

function kathleen(): Utt[] {
  const { dir, prompts } = kathleenPrompts(SHARED);
  const utts: Utt[] = [];
  prompts.forEach(({ file, text, split }) => {
    const stem = file.replace(/\.wav$/, '');
    for (const speed of split === 'train' ? [1, 0.9, 1.1] : [1]) {
      utts.push({ id: `kathleen-${split}-${stem}-sp${speed}`, split, file: path.join(dir, file), speed, text: normalizeText(text) });
    }
  });
  return utts;
}

async function main(): Promise<void> {
  const ptm = path.join(WORK, 'ptm.onnx');
  const session = await createSession(ptm, { threads: 1 });
  fs.mkdirSync(path.join(WORK, 'states'), { recursive: true });
  // --list FILE.jsonl ({id, split, file, text} per line): other recordings (recipes/base-en-real/synth-probe.py)
  const list = process.argv.includes('--list') ? arg('list', '') : '';
  const all: Utt[] = list ? fs.readFileSync(list, 'utf8').trim().split('\n').map((l) => ({ speed: 1, ...JSON.parse(l) })) : kathleen();
  const utts = all.filter((_, i) => i % PARTS === PART);
  const lines: string[] = [];
  let audioSec = 0, encodeMs = 0;
  for (const [k, u] of utts.entries()) {
    const npy = path.join(WORK, 'states', `${u.id}.npy`);
    let frames: number;
    if (fs.existsSync(npy)) {
      frames = readNpy(npy).shape[0];
    } else {
      const a = loadAudio(u.file, { sampleRate: 16000 });
      // speed s: the recording played s times faster (pitch and tempo), as `sox speed s` does
      const samples = u.speed === 1 ? a.samples : resample(a.samples, Math.round(16000 * u.speed), 16000);
      const f = computeFeatures({ samples, sampleRate: 16000 }, 'sphinx-mfcc-13');
      subtractMean(f.data, f.numFrames, f.dim);
      const t0 = performance.now();
      const out = await session.run('features', f.data, [1, f.numFrames, f.dim], 'ptm_features');
      encodeMs += performance.now() - t0;
      audioSec += samples.length / 16000;
      frames = out.dims[1];
      writeNpy(npy + '.tmp', out.data, [frames, out.dims[2]]);
      fs.renameSync(npy + '.tmp', npy);
    }
    lines.push(JSON.stringify({ id: u.id, split: u.split, text: u.text, npy, frames }));
    if (k % 200 === 0) console.log(`part ${PART}: ${k}/${utts.length}${audioSec ? `, encoder RTF ${(encodeMs / 1000 / audioSec).toFixed(4)}` : ''}`);
  }
  fs.writeFileSync(path.join(WORK, `utts-${list ? 'list-' : ''}${PART}.jsonl`), lines.join('\n') + '\n');
  if (PART === 0 && !list) {
    // NeMo manifests of Kathleen's dev and test prompts, for decoding tuning (dev) and the model card (test)
    for (const split of ['dev', 'test'] as const) {
      const m = kathleen().filter((u) => u.split === split).map((u) => JSON.stringify({ audio_filepath: u.file, text: u.text }));
      fs.writeFileSync(path.join(WORK, `kathleen-${split}.jsonl`), m.join('\n') + '\n');
    }
  }
  await session.release();
  console.log(`part ${PART}: ${utts.length} utterances; encoded ${audioSec.toFixed(0)} s of audio, RTF ${(encodeMs / 1000 / Math.max(audioSec, 1e-9)).toFixed(4)} (one thread)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
