/**
 * The one place that loads TensorFlow.js. It picks the fastest backend present:
 *   'tensorflow' (@tensorflow/tfjs-node, native libtensorflow; an optional dependency whose install
 *   downloads a native library, so it is often absent), else 'wasm' (@tensorflow/tfjs-backend-wasm,
 *   SIMD; 4-7x faster than 'cpu' here), else 'cpu' (pure JavaScript).
 * Callers say which one they use: initTraining() returns its name.
 */
import type * as TF from '@tensorflow/tfjs';

/** The TensorFlow.js backend training runs on: tfjs-node ('tensorflow', native), WebAssembly ('wasm') or plain JS ('cpu'). */
export type TrainingBackend = 'tensorflow' | 'wasm' | 'cpu';

/** TensorFlow.js as loaded for training, and which backend it runs on. */
export interface TrainingRuntime {
  tf: typeof TF;
  backend: TrainingBackend;
  /** Why faster backends were not used, e.g. "tfjs-node not installed". */
  fallbackReason?: string;
}

let runtime: Promise<TrainingRuntime> | null = null;

/**
 * Load TensorFlow.js with the fastest available backend (memoized).
 * @param prefer force a backend (for benchmarks and tests); throws if it is not available
 */
export function initTraining(prefer?: TrainingBackend): Promise<TrainingRuntime> {
  if (prefer) return load(prefer);
  runtime ??= load();
  return runtime;
}

async function load(prefer?: TrainingBackend): Promise<TrainingRuntime> {
  let fallbackReason: string | undefined;
  if (!prefer || prefer === 'tensorflow') {
    try {
      const tfn = (await import('@tensorflow/tfjs-node' as string)) as typeof TF;
      await tfn.setBackend('tensorflow');
      await tfn.ready();
      return { tf: tfn, backend: 'tensorflow' };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      fallbackReason = code === 'ERR_MODULE_NOT_FOUND' ? '@tensorflow/tfjs-node is not installed' : `@tensorflow/tfjs-node failed to load (${(err as Error).message.split('\n')[0]})`;
      if (prefer) throw new Error(fallbackReason);
    }
  }
  const tf = await import('@tensorflow/tfjs');
  if (!prefer || prefer === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return { tf, backend: 'wasm', fallbackReason };
      }
      throw new Error('setBackend("wasm") returned false');
    } catch (err) {
      const why = `wasm backend failed to load (${(err as Error).message.split('\n')[0]})`;
      if (prefer) throw new Error(why);
      fallbackReason = fallbackReason ? `${fallbackReason}; ${why}` : why;
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { tf, backend: 'cpu', fallbackReason };
}
