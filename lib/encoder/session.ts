/**
 * The only module that imports onnxruntime-node. Sessions are created through createSession(),
 * which turns ONNX Runtime's errors into one-line ModelErrors, and released explicitly.
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../errors.js';

// ONNX Runtime 1.30 on Linux starts Microsoft's telemetry with the first session: a file
// /tmp/mat-debug-<pid>.log per process, a database under ~/.cache/Microsoft/DeveloperTools, and
// attempted uploads. A speech tool run on people's recordings sends nothing anywhere: off unless the
// user set the variable themselves (read when the first session is created, so setting it here is in time).
process.env.ORT_DISABLE_TELEMETRY ??= '1';

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

export interface SessionOptions {
  /** Threads for one operator (default: all cores). */
  threads?: number;
  /**
   * Keep ONNX Runtime's CPU memory arena (default true): faster, but the arena keeps the largest
   * intermediate tensors it has ever held. Off, memory goes back after each run.
   */
  memArena?: boolean;
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: String(m.type), shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

/** Load an ONNX file; `file` is also the name used in error messages. */
export async function createSession(file: string, options: SessionOptions = {}): Promise<OnnxSession> {
  const threads = options.threads ?? os.cpus().length;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      enableCpuMemArena: options.memArena ?? true,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0].replace(/^.*failed:/, '').trim();
    throw new ModelError(`cannot load ONNX model (${msg || 'unknown error'}); the file may be corrupt or truncated`, file);
  }
  return {
    inputs: describe(session.inputMetadata),
    outputs: describe(session.outputMetadata),
    async run(inputName, data, dims, outputName) {
      let result: ort.InferenceSession.OnnxValueMapType;
      try {
        result = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) }, [outputName]);
      } catch (err) {
        throw new ModelError(`ONNX Runtime failed on input ${inputName} [${dims.join(', ')}]: ${(err as Error).message.split('\n')[0]}`, file);
      }
      const out = result[outputName] as ort.Tensor;
      if (out.type !== 'float32') throw new ModelError(`output ${outputName} is ${out.type}, expected float32`, file);
      const values = out.data as Float32Array;
      const dimsOut = [...out.dims];
      return { data: values, dims: dimsOut };
    },
    async release() {
      await session.release();
    },
  };
}

/** ONNX Runtime's version, for `info` and benchmarks. */
export const onnxRuntimeVersion = (): string => ort.env.versions?.node ?? 'unknown';
