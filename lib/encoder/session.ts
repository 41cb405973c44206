/**
 * The only module that imports onnxruntime-node. Sessions are created through createSession(),
 * which turns ONNX Runtime's errors into one-line ModelErrors, and released explicitly.
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../errors.js';
import { wrapSession, type OnnxSession } from './session-wrap.js';

// ONNX Runtime 1.30 on Linux starts Microsoft's telemetry with the first session: a file
// /tmp/mat-debug-<pid>.log per process, a database under ~/.cache/Microsoft/DeveloperTools, and
// attempted uploads. A speech tool run on people's recordings sends nothing anywhere: off unless the
// user set the variable themselves (read when the first session is created, so setting it here is in time).
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export type { TensorInfo, OnnxSession } from './session-wrap.js';

export interface SessionOptions {
  /** Threads for one operator (default: all cores). */
  threads?: number;
  /**
   * Keep ONNX Runtime's CPU memory arena (default true): faster, but the arena keeps the largest
   * intermediate tensors it has ever held. Off, memory goes back after each run.
   */
  memArena?: boolean;
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
  return wrapSession(session, ort.Tensor, file);
}

/** ONNX Runtime's version, for `info` and benchmarks. */
export const onnxRuntimeVersion = (): string => ort.env.versions?.node ?? 'unknown';
