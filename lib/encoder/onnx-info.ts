/**
 * What an ONNX file declares, read from its protobuf with onnx-proto (no runtime needed):
 * IR version, opsets, producer, and the parameter count (elements of all initializers).
 */
import fs from 'node:fs';
import onnxProto from 'onnx-proto';
import { ModelError } from '../errors.js';

export interface OnnxFileInfo {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  parameters: number;
  /** Initializers stored outside the file (external data), which must sit beside it. */
  externalData: string[];
}

const { onnx } = onnxProto; // a CommonJS module: no named exports under ESM
type ModelProto = InstanceType<typeof onnx.ModelProto>;

const toNum = (v: number | { toNumber(): number } | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

export function readOnnxInfo(file: string): OnnxFileInfo {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(fs.readFileSync(file));
  } catch (err) {
    throw new ModelError(`not a readable ONNX file (${(err as Error).message.split('\n')[0]})`, file);
  }
  let parameters = 0;
  const external = new Set<string>();
  for (const init of model.graph?.initializer ?? []) {
    parameters += (init.dims ?? []).reduce((a: number, d) => a * toNum(d), 1);
    if (init.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const loc = init.externalData?.find((e) => e.key === 'location')?.value;
      if (loc) external.add(loc);
    }
  }
  return {
    irVersion: toNum(model.irVersion),
    opsets: (model.opsetImport ?? []).map((o) => ({ domain: o.domain || 'ai.onnx', version: toNum(o.version) })),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' ') || 'unknown',
    parameters,
    externalData: [...external],
  };
}
