/** Load the trainable top blocks a model ships (model.json `trainableTop`; see TrainableTopSpec). */
import fs from 'node:fs';
import path from 'node:path';
import { ModelError } from '../errors.js';
import { readNpy } from '../io/npy.js';
import { TOP_TENSORS, topTensorShape, type TopBlock } from '../adapter/math.js';
import type { ModelDir } from './manifest.js';

export function loadTopBlocks(md: ModelDir): { output: string; kernel: number; blocks: TopBlock[] } {
  const top = md.manifest.trainableTop;
  if (!top) throw new ModelError(`model '${md.manifest.name}' ships no trainable top blocks (model.json has no trainableTop); use --method adapter`, md.dir);
  const d = md.manifest.encoder.hiddenSize;
  const blocks = top.blocks.map((prefix) => {
    const b = {} as TopBlock;
    for (const name of TOP_TENSORS) {
      const file = path.join(md.dir, `${prefix}.${name}.npy`);
      if (!fs.existsSync(file)) throw new ModelError(`trainable top block file ${prefix}.${name}.npy is missing`, md.dir);
      const t = readNpy(file);
      const want = topTensorShape(name, d, top.kernel);
      if (t.shape.join() !== want.join()) throw new ModelError(`has shape [${t.shape}], expected [${want}]`, file);
      b[name] = t.data;
    }
    return b;
  });
  return { output: top.output, kernel: top.kernel, blocks };
}
