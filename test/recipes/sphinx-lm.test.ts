import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArpaLm } from '../../lib/decode/arpa.js';
import { ROOT } from '../helpers/fixtures.js';

const SCRIPT = path.join(ROOT, 'recipes', 'base-en-real', 'sphinx_lm.py');
const FIX = path.join(ROOT, 'test', 'fixtures', 'sphinx-lm');
const hasNumpy = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** "w1 w2 ..." -> [log10 prob, log10 backoff or undefined] for every n-gram of an ARPA text. */
function entries(arpa: string): Map<string, [number, number | undefined]> {
  const out = new Map<string, [number, number | undefined]>();
  let n = 0;
  for (const line of arpa.split('\n')) {
    const m = /^\\(\d)-grams:/.exec(line);
    if (m) { n = Number(m[1]); continue; }
    if (!n || !line.trim() || line.startsWith('\\')) continue;
    const f = line.split('\t');
    out.set(f[1], [Number(f[0]), f[2] === undefined ? undefined : Number(f[2])]);
  }
  return out;
}

describe('recipes/base-en-real/sphinx_lm.py: sphinxbase binary trie LM -> ARPA', function () {
  this.timeout(60_000);
  before(function () {
    if (!hasNumpy) {
      console.log('      skipped: /usr/bin/python3 with numpy not found (apt-get install python3-numpy)');
      this.skip();
    }
  });

  it('gives back every n-gram of the ARPA that sphinx_lm_convert packed, with its scores (16-bit quantisation)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-lm-'));
    try {
      const out = path.join(dir, 'back.arpa');
      const r = spawnSync('/usr/bin/python3', [SCRIPT, path.join(FIX, 'small.lm.bin'), out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const orig = entries(fs.readFileSync(path.join(FIX, 'small.arpa'), 'utf8'));
      const back = entries(fs.readFileSync(out, 'utf8'));
      let checked = 0;
      for (const [k, [p, bo]] of orig) {
        const b = back.get(k);
        assert.ok(b, `n-gram "${k}" missing`);
        if (p > -90) assert.ok(Math.abs(b[0] - p) < 2e-3, `"${k}": prob ${b[0]} != ${p}`);
        if (bo !== undefined && b[1] !== undefined) assert.ok(Math.abs(b[1] - bo) < 2e-3, `"${k}": backoff ${b[1]} != ${bo}`);
        checked++;
      }
      assert.equal(checked, orig.size);
      assert.ok(orig.size > 80);
      // the result loads in the toolkit's own ARPA reader
      const lm = ArpaLm.load(out);
      assert.equal(lm.order, 3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--keep prunes to the asked sizes and re-normalises: each kept context still sums to 1', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-lm-'));
    try {
      const full = path.join(dir, 'full.arpa'), pruned = path.join(dir, 'pruned.arpa');
      assert.equal(spawnSync('/usr/bin/python3', [SCRIPT, path.join(FIX, 'small.lm.bin'), full]).status, 0);
      const r = spawnSync('/usr/bin/python3', [SCRIPT, path.join(FIX, 'small.lm.bin'), pruned, '--keep', '40,20'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const e = entries(fs.readFileSync(pruned, 'utf8'));
      const byOrder = [1, 2, 3].map((n) => [...e.keys()].filter((k) => k.split(' ').length === n).length);
      assert.deepEqual(byOrder, [19, 40, 20]);
      // sum over the vocabulary of p(w | context) with back-off, for every unigram context that keeps bigrams
      const words = [...e.keys()].filter((k) => !k.includes(' '));
      const p1 = (w: string): number => 10 ** e.get(w)![0];
      const p2 = (a: string, w: string): number => (e.has(`${a} ${w}`) ? 10 ** e.get(`${a} ${w}`)![0] : 10 ** (e.get(a)![1] ?? 0) * p1(w));
      const contexts = words.filter((c) => [...e.keys()].some((k) => k.startsWith(`${c} `) && k.split(' ').length === 2));
      assert.ok(contexts.length >= 5);
      for (const a of contexts) {
        const total = words.filter((w) => w !== '<s>').reduce((s, w) => s + p2(a, w), 0);
        assert.ok(Math.abs(total - 1) < 0.01, `context "${a}" sums to ${total}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
