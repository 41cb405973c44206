/**
 * Phone models end to end on the tiny test encoder: a head over phones and a pronunciation
 * dictionary (made up here: one phone per letter). Training targets come from the dictionary; a
 * word it lacks is guessed by the model's letter-to-phone rules and saved with the adapter, or
 * without rules its transcript is skipped and named; every decoding spells dictionary words.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDataset } from '../../lib/data/manifest.js';
import { LetterToPhone } from '../../lib/decode/g2p.js';
import type { LexNode } from '../../lib/decode/lexicon.js';
import { loadAdapter } from '../../lib/adapter/io.js';
import { trainAdapter } from '../../lib/train/trainer.js';
import { loadRecognizer } from '../../lib/pipeline/recognizer.js';
import { normalizeText } from '../../lib/text/normalize.js';
import { importTestModelWithHead, smallScottishData } from '../helpers/models.js';
import { audioFixture } from '../helpers/fixtures.js';

const SYMBOLS = ['<blank>', ' ', ...'abcdefghijklmnopqrstuvwxyz'.toUpperCase().split('').map((c) => `P${c}`)];
const phonesOf = (w: string): string => [...w].filter((c) => c !== "'").map((c) => `P${c.toUpperCase()}`).join(' ');

describe('train and transcribe with a phone model', function () {
  this.timeout(180000);
  let dir: string, model: string, withRules: string, data: string, words: string[], dropped: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-phones-'));
    data = smallScottishData(dir, 24);
    words = [...new Set(readDataset(data).utterances.flatMap((u) => normalizeText(u.text).split(' ')))];
    // Leave out one word that appears in exactly one transcript.
    const counts = new Map<string, number>();
    for (const u of readDataset(data).utterances) for (const w of new Set(normalizeText(u.text).split(' '))) counts.set(w, (counts.get(w) ?? 0) + 1);
    dropped = words.find((w) => counts.get(w) === 1 && w.length > 3)!;
    const kept = words.filter((w) => w !== dropped);
    const dictionary = `# test dictionary\n${kept.map((w) => `${w} ${phonesOf(w)}`).join('\n')}\n`;
    model = (await importTestModelWithHead(dir, 'tiny-phones', { symbols: SYMBOLS, dictionary })).dir;
    // Rules learned from that dictionary say each letter as its phone (apostrophes silent).
    const g2p = LetterToPhone.train(kept.map((w) => [w, phonesOf(w).split(' ')] as [string, string[]])).serialize();
    withRules = (await importTestModelWithHead(dir, 'tiny-phones-g2p', { symbols: SYMBOLS, dictionary, g2p })).dir;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains on phone targets; without letter-to-phone rules, an utterance with a word outside the dictionary is skipped and named', async function () {
    const logs: string[] = [];
    const out = path.join(dir, 'adapters', 'p');
    await trainAdapter({ accent: 'p', data, model, out, epochs: 1, threads: 1, onLog: (l) => logs.push(l) });
    const skipped = logs.find((l) => l.includes(`skipped 1 utterance(s): a word with no pronunciation (not in the dictionary, and its letters cannot be guessed): `) && l.includes(`("${dropped}")`));
    assert.ok(skipped, logs.join('\n'));
    const { meta } = loadAdapter(out);
    assert.equal(meta.data.utterances, 23);
    assert.equal(meta.dev.decoding, 'beam 8 + dictionary'); // no LM: a phone model still spells through its dictionary
    await assert.rejects(trainAdapter({ accent: 'p', data, model, out: path.join(dir, 'adapters', 'g'), epochs: 1, threads: 1, devDecoding: 'greedy' }), /a phone model has no greedy decoding/);
  });

  it('transcribes into dictionary words only, with word times; unknown hotwords are refused', async () => {
    const rec = await loadRecognizer({ model, threads: 1 });
    try {
      assert.equal(rec.decodingName(), 'beam 8 + dictionary');
      const t = await rec.transcribe(audioFixture('speech-en-us-16k.wav'));
      assert.ok(t.words.length > 0, 'a random head still says something');
      for (const w of t.words) assert.ok(words.includes(w.word), `"${w.word}" is not in the dictionary`);
      assert.equal(t.text, t.words.map((w) => w.word).join(' '));
      for (let i = 1; i < t.words.length; i++) assert.ok(t.words[i].start >= t.words[i - 1].end - 1e-9);
      assert.equal(rec.decodingName({ lexicon: false }), 'beam 8 + dictionary'); // no LM here: any dictionary word either way
    } finally {
      await rec.release();
    }
    await assert.rejects(loadRecognizer({ model, threads: 1, hotwords: [{ phrase: 'qqzx', boost: 1 }] }), /hotword "qqzx": no pronunciation for "qqzx" \(not in the model's dictionary, and its letters cannot be guessed\)/);
  });

  it('with letter-to-phone rules, a word outside the dictionary is trained on its guessed phones, and decoding with the adapter can spell it', async function () {
    const logs: string[] = [];
    const out = path.join(dir, 'adapters', 'g2p');
    await trainAdapter({ accent: 'p', data, model: withRules, out, epochs: 1, threads: 1, onLog: (l) => logs.push(l) });
    assert.ok(!logs.some((l) => l.startsWith('skipped')), logs.join('\n'));
    assert.ok(logs.some((l) => l.startsWith(`guessed the phones of 1 word(s) not in the dictionary: ${dropped} /${phonesOf(dropped)}/`)), logs.join('\n'));
    const { meta } = loadAdapter(out);
    assert.equal(meta.data.utterances, 24);
    assert.deepEqual(meta.words, { [dropped]: phonesOf(dropped) });
    const plain = await loadRecognizer({ model: withRules, threads: 1 });
    const adapted = await loadRecognizer({ model: withRules, adapter: out, threads: 1 });
    try {
      assert.deepEqual(plain.pronunciations!.pronounce(dropped), { phones: phonesOf(dropped).split(' '), guessed: true });
      assert.deepEqual(adapted.pronunciations!.pronounce(dropped), { phones: phonesOf(dropped).split(' '), guessed: false });
      // The word is in the adapted recognizer's lexicon, and only there.
      const inLexicon = (r: typeof plain): boolean => {
        let node: LexNode | undefined = r.pronunciations!.lexicon().root;
        for (const p of phonesOf(dropped).split(' ')) node = node?.next.get(p);
        return !!node?.words?.includes(dropped);
      };
      assert.equal(inLexicon(adapted), true);
      assert.equal(inLexicon(plain), false);
      // A hotword the dictionary lacks is spelled by the rules.
      assert.deepEqual(plain.pronunciations!.hotword({ phrase: 'glasgowrangers', boost: 1 }, SYMBOLS).symbols, phonesOf('glasgowrangers').split(' '));
    } finally {
      await plain.release();
      await adapted.release();
    }
    // Words whose phones the model lacks (an adapter.json edited, or made for another model): one clear error.
    const file = path.join(out, 'adapter.json');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), words: { [dropped]: 'PA QQ' } }));
    await assert.rejects(loadRecognizer({ model: withRules, adapter: out, threads: 1 }), (err: Error) => err.message.includes('adapter.json "words": ') && err.message.includes('phone "QQ" is not one of the model\'s symbols'));
  });
});
