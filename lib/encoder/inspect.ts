/** `models inspect`: everything we can tell about a model directory or an ONNX file. */
import fs from 'node:fs';
import path from 'node:path';
import { ModelError } from '../errors.js';
import { sha256File } from '../io/sha256.js';
import { checkKind } from './kinds.js';
import { ENCODER_KINDS, loadManifest, type EncoderKind, type ModelManifest } from './manifest.js';
import { readOnnxInfo, type OnnxFileInfo } from './onnx-info.js';
import { createSession, type TensorInfo } from './session.js';

/** What inspectModel found in an ONNX file or model folder. */
export interface InspectReport {
  file: string;
  bytes: number;
  sha256: string;
  onnx: OnnxFileInfo;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** For each kind: fits, or the reasons it does not. */
  kinds: Record<EncoderKind, { fits: boolean; problems: string[]; preset?: string }>;
  /** When a model directory was inspected. */
  manifest?: Readonly<ModelManifest>;
  checksumOk?: boolean;
}

/** Describe an ONNX file or model folder: inputs, outputs, shapes, parameter count, opset, and which kinds it fits. */
export async function inspectModel(target: string): Promise<InspectReport> {
  if (!fs.existsSync(target)) throw new ModelError('not found', target);
  let manifest: Readonly<ModelManifest> | undefined;
  let file = target;
  if (fs.statSync(target).isDirectory()) {
    manifest = loadManifest(target).manifest;
    file = path.join(target, manifest.encoder.file);
    if (!fs.existsSync(file)) throw new ModelError(`encoder file ${manifest.encoder.file} is missing`, target);
  }
  const onnx = readOnnxInfo(file);
  const session = await createSession(file, { threads: 1 });
  try {
    const sha256 = sha256File(file);
    const kinds = {} as InspectReport['kinds'];
    for (const k of ENCODER_KINDS) {
      const fit = checkKind(k, session.inputs, session.outputs);
      kinds[k] = { fits: fit.ok, problems: fit.problems, ...(fit.ok && fit.preset ? { preset: fit.preset } : {}) };
    }
    return {
      file, bytes: fs.statSync(file).size, sha256, onnx, inputs: session.inputs, outputs: session.outputs, kinds,
      ...(manifest ? { manifest, checksumOk: manifest.encoder.sha256 === sha256 } : {}),
    };
  } finally {
    await session.release();
  }
}

const shape = (t: TensorInfo): string => `${t.name}  ${t.type}  [${t.shape.join(', ')}]`;

/** The report as text for the terminal. */
export function formatInspect(r: InspectReport): string {
  const lines: string[] = [];
  if (r.manifest) {
    const m = r.manifest;
    const fe = m.frontEnd.type === 'features' ? `${m.frontEnd.preset}, normalisation ${m.frontEnd.normalization.type}` : `waveform, normalisation ${m.frontEnd.normalization}`;
    lines.push(`model: ${m.name} ${m.modelVersion} (${m.encoder.kind} encoder): ${m.description}`,
      `licence: ${m.license}`, `training data: ${m.trainingData}`, `front end: ${fe}`,
      `output: ${m.encoder.output.name} (${m.encoder.output.type}), ${m.encoder.hiddenSize} per frame every ${m.encoder.frameShift * 1000} ms`,
      `base CTC head: ${m.ctcHead ? `${m.ctcHead.vocab.length} symbols, blank ${JSON.stringify(m.ctcHead.vocab[m.ctcHead.blank])}${m.ctcHead.pronunciations ? `; phones, spelled through ${m.ctcHead.pronunciations}` : ''}` : 'none'}`,
      `checksum: ${r.checksumOk ? 'ok' : 'MISMATCH (the encoder file is not the one model.json describes)'}`);
  }
  lines.push(`file: ${r.file} (${(r.bytes / 1024).toFixed(1)} KiB, sha256 ${r.sha256})`,
    `producer: ${r.onnx.producer}; IR version ${r.onnx.irVersion}; opsets ${r.onnx.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`,
    `parameters: ${r.onnx.parameters.toLocaleString('en-US')}`,
    'inputs:', ...r.inputs.map((t) => `  ${shape(t)}`), 'outputs:', ...r.outputs.map((t) => `  ${shape(t)}`));
  for (const [k, v] of Object.entries(r.kinds)) lines.push(v.fits ? `fits kind ${k}${v.preset ? ` (preset ${v.preset})` : ''}` : `does not fit kind ${k}: ${v.problems.join('; ')}`);
  return lines.join('\n');
}
