/** Does an adapter fit a base model: its encoder, sizes and method. */
import { ModelError } from '../errors.js';
import type { ModelDir } from '../encoder/manifest.js';
import type { AdapterMeta } from './io.js';
import type { AdapterWeights } from './math.js';

/**
 * Does an adapter belong to this model? Its base encoder's checksum, its sizes and its method must
 * fit; `file` names the adapter in errors.
 */
export function checkAdapterFits(md: ModelDir, meta: AdapterMeta | undefined, weights: readonly AdapterWeights[], file?: string): void {
  const m = md.manifest, h = m.ctcHead;
  if (m.encoder.output.type === 'logprobs') throw new ModelError(`model '${m.name}' is an export with its adapter built in; adapters apply to its source model`, file);
  if (weights.length === 0 || new Set(weights.map((w) => `${w.method} ${w.dim} ${w.vocabSize}`)).size > 1) throw new ModelError('an adapter ensemble needs one or more members of one method and size', file);
  if (meta && meta.base.encoderSha256 !== m.encoder.sha256) {
    throw new ModelError(`adapter was trained for base model '${meta.base.name}' ${meta.base.modelVersion} (encoder ${meta.base.encoderSha256.slice(0, 12)}...), not '${m.name}' ${m.modelVersion} (${m.encoder.sha256.slice(0, 12)}...); use --model ${meta.base.name} or retrain the adapter`, file);
  }
  if (!h || weights[0].dim !== m.encoder.hiddenSize || weights[0].vocabSize !== h.vocab.length) throw new ModelError('adapter sizes do not fit the model', file);
  if (weights[0].method === 'top' && !m.trainableTop) throw new ModelError(`adapter fine-tunes top blocks that model '${m.name}' does not ship`, file);
}
