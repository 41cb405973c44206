/**
 * Check an export against the pipeline it came from: the exported graph's log-probabilities (ONNX
 * Runtime on model.onnx) against `Recognizer.logProbs` with the base model and adapter, and the text
 * both decode to, on the same audio.
 */
import { loadRecognizer } from '../pipeline/recognizer.js';
import type { Waveform } from '../types.js';

export interface ExportCheck {
  /** Largest |difference| between the two log-probabilities, over every frame and symbol. */
  maxAbsDiff: number;
  frames: number;
  /** The text each gives with its default decoding. */
  pipelineText: string;
  exportText: string;
}

/** Compare the export in `dir` with `model` + `adapter` on `audio`. */
export async function checkExport(dir: string, audio: Waveform, source: { model?: string; modelsDir?: string; adapter?: string }): Promise<ExportCheck> {
  const [a, b] = await Promise.all([
    loadRecognizer({ model: source.model, modelsDir: source.modelsDir, adapter: source.adapter, threads: 1 }),
    loadRecognizer({ model: dir, threads: 1 }),
  ]);
  try {
    const x = await a.logProbs(audio), y = await b.logProbs(audio);
    if (x.T !== y.T || x.V !== y.V) return { maxAbsDiff: Infinity, frames: Math.min(x.T, y.T), pipelineText: '', exportText: '' };
    let diff = 0;
    for (let i = 0; i < x.logp.length; i++) diff = Math.max(diff, Math.abs(x.logp[i] - y.logp[i]));
    const ta = a.decode(x.logp, x.T, x.V, x.frameShift), tb = b.decode(y.logp, y.T, y.V, y.frameShift);
    return { maxAbsDiff: diff, frames: x.T, pipelineText: ta.text, exportText: tb.text };
  } finally {
    await a.release();
    await b.release();
  }
}
