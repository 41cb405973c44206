import assert from 'node:assert/strict';
import { pairedBootstrap } from '../../lib/eval/significance.js';
import type { ErrorCounts } from '../../lib/eval/wer.js';

const utt = (errors: number, ref = 10): ErrorCounts => ({ ref, substitutions: errors, deletions: 0, insertions: 0 });

describe('eval/significance: paired bootstrap', () => {
  it('a gain on every utterance is significant; no change never is', () => {
    const base = Array.from({ length: 40 }, () => utt(5));
    assert.equal(pairedBootstrap(base, Array.from({ length: 40 }, () => utt(4))), 0);
    assert.equal(pairedBootstrap(base, base), 1, 'equal errors count as not better');
  });

  it('the same total gain from one lucky utterance is not significant', () => {
    // 40 utterances, base 5 errors each; adapted: one utterance 5 -> 0, the rest unchanged
    // (2.5% fewer errors, all from a single utterance). Resamples without it show no gain.
    const base = Array.from({ length: 40 }, () => utt(5));
    const lucky = base.map((u, i) => (i === 0 ? utt(0) : u));
    const p = pairedBootstrap(base, lucky);
    assert.ok(p > 0.3 && p < 0.45, `p = ${p}`); // P(utterance 0 not drawn in 40 draws) = (39/40)^40 = 0.363
    // A gain spread over most utterances, with noise, is significant.
    const spread = base.map((u, i) => utt(i % 4 === 0 ? 6 : 4));
    assert.ok(pairedBootstrap(base, spread) < 0.01);
  });

  it('is deterministic for a seed and refuses unpaired inputs', () => {
    const a = Array.from({ length: 30 }, (_, i) => utt(i % 7));
    const b = Array.from({ length: 30 }, (_, i) => utt((i * 3) % 7));
    assert.equal(pairedBootstrap(a, b, 500, 7), pairedBootstrap(a, b, 500, 7));
    assert.throws(() => pairedBootstrap(a, b.slice(1)), /same utterances/);
  });
});
