/**
 * The linear CTC head: logits = hidden (T, d) x W (d, V) + b, then log-softmax per frame. An
 * exported model's graph ends in log-probabilities already: its head passes them through.
 */
import path from 'node:path';
import { ModelError } from '../errors.js';
import { readNpy } from '../io/npy.js';
import { logSoftmaxRows, matmulBias } from '../math/matrix.js';

export class CtcHead {
  readonly dim: number;
  readonly vocabSize: number;
  /** (dim, vocabSize), row-major. */
  readonly weight: Float32Array;
  readonly bias: Float32Array;

  /** True for passThrough(): logProbs returns its input. */
  readonly passThrough: boolean;

  constructor(weight: Float32Array, bias: Float32Array, dim: number, vocabSize: number, passThrough = false) {
    this.passThrough = passThrough;
    if (weight.length !== dim * vocabSize || bias.length !== vocabSize) throw new ModelError(`CTC head shapes do not fit: weight ${weight.length} values for (${dim}, ${vocabSize}), bias ${bias.length}`);
    this.weight = weight;
    this.bias = bias;
    this.dim = dim;
    this.vocabSize = vocabSize;
  }

  /** The head of a model whose encoder outputs log-probabilities (V per frame): they pass through. */
  static passThrough(vocabSize: number): CtcHead {
    return new CtcHead(new Float32Array(vocabSize * vocabSize), new Float32Array(vocabSize), vocabSize, vocabSize, true);
  }

  /** Read weight (dim, V) and bias (V,) .npy files. */
  static load(dir: string, weightFile: string, biasFile: string, dim: number, vocabSize: number): CtcHead {
    const w = readNpy(path.join(dir, weightFile));
    const b = readNpy(path.join(dir, biasFile));
    if (w.shape.join() !== [dim, vocabSize].join() || b.shape.join() !== [vocabSize].join()) {
      throw new ModelError(`CTC head has shapes [${w.shape}] and [${b.shape}], expected [${dim}, ${vocabSize}] and [${vocabSize}]`, dir);
    }
    return new CtcHead(w.data, b.data, dim, vocabSize);
  }

  /** Log-probabilities (T, V) for hidden frames (T, dim). */
  logProbs(hidden: Float32Array, T: number): Float32Array {
    if (this.passThrough) return hidden;
    const out = new Float32Array(T * this.vocabSize);
    matmulBias(hidden, T, this.dim, this.weight, this.bias, this.vocabSize, out);
    logSoftmaxRows(out, T, this.vocabSize);
    return out;
  }
}
