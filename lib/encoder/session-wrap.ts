/**
 * One float32-in, float32-out view of an ONNX Runtime session, the same for onnxruntime-node
 * (session.ts) and onnxruntime-web (lib/browser): both share onnxruntime-common's session API.
 * No ONNX Runtime import here: the caller passes its runtime's session and Tensor class.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { ModelError } from '../errors.js';

/** Name, element type and shape (numbers, or names of symbolic dims) of one model input or output. */
export interface TensorInfo {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface OnnxSession {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  /** Run with one float32 input; returns the named float32 output. */
  run(inputName: string, data: Float32Array, dims: number[], outputName: string): Promise<{ data: Float32Array; dims: number[] }>;
  release(): Promise<void>;
}

function describe(meta: readonly InferenceSession.ValueMetadata[]): TensorInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: String(m.type), shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

/** The OnnxSession of a loaded session; `file` names the model in errors. */
export function wrapSession(session: InferenceSession, TensorCtor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => Tensor, file: string): OnnxSession {
  return {
    inputs: describe(session.inputMetadata),
    outputs: describe(session.outputMetadata),
    async run(inputName, data, dims, outputName) {
      let result: InferenceSession.OnnxValueMapType;
      try {
        result = await session.run({ [inputName]: new TensorCtor('float32', data, dims) }, [outputName]);
      } catch (err) {
        throw new ModelError(`ONNX Runtime failed on input ${inputName} [${dims.join(', ')}]: ${(err as Error).message.split('\n')[0]}`, file);
      }
      const out = result[outputName] as Tensor;
      if (out.type !== 'float32') throw new ModelError(`output ${outputName} is ${out.type}, expected float32`, file);
      return { data: out.data as Float32Array, dims: [...out.dims] };
    },
    async release() {
      await session.release();
    },
  };
}
