/**
 * Split a CTC model's ONNX graph into an encoder and its CTC head: find the final projection that
 * makes `logits` (MatMul + Add, Gemm, or a dynamically quantised MatMulInteger), read its weights as
 * the head, and give the graph a second output, the hidden state that feeds the projection. The
 * graph is otherwise unchanged (the logits are still computed: a d x V product per frame, negligible),
 * so the split model's log-probabilities equal the original's.
 *
 * Shapes: the head's weight is (d, V) row-major as `hidden W + b`; a Gemm with transB=1 stores (V, d).
 */
import fs from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { ModelError } from '../errors.js';

const { onnx } = onnxProto; // a CommonJS module: no named exports under ESM
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type TensorProto = onnxProto.onnx.ITensorProto;
type NodeProto = onnxProto.onnx.INodeProto;

const toNum = (v: number | { toNumber(): number } | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

/** The result of splitting: the graph with its new output, and the head's weights. */
export interface SplitGraph {
  /** The ONNX model, serialised, with the hidden state as an extra output. */
  bytes: Uint8Array;
  /** Name of the hidden-state output (d per frame). */
  hiddenOutput: string;
  /** (d, V) row-major, and (V,). */
  weight: Float32Array;
  bias: Float32Array;
  dim: number;
  vocabSize: number;
  /** How the projection was stored: 'matmul', 'gemm' or 'quantized' (dequantised here). */
  projection: 'matmul' | 'gemm' | 'quantized';
  /** External data files the graph reads (relative to it), to be copied beside it. */
  externalData: string[];
}

/** Float values of an initializer (float32, or uint8/int8 for quantised weights), from the file or its external data. */
function tensorValues(t: TensorProto, dir: string, file: string): Float32Array | Uint8Array | Int8Array {
  const n = (t.dims ?? []).reduce((a: number, d) => a * toNum(d), 1);
  const type = t.dataType;
  let raw: Uint8Array | undefined;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
    const loc = kv.get('location');
    if (!loc || loc.includes('..') || path.isAbsolute(loc)) throw new ModelError(`tensor ${t.name} names an external data file outside the model's folder (${loc})`, file);
    const offset = Number(kv.get('offset') ?? 0), width = type === onnx.TensorProto.DataType.FLOAT ? 4 : 1;
    const length = Number(kv.get('length') ?? n * width);
    const fd = fs.openSync(path.join(dir, loc), 'r');
    try {
      raw = Buffer.alloc(length);
      if (fs.readSync(fd, raw, 0, length, offset) !== length) throw new ModelError(`external data of ${t.name} is truncated`, path.join(dir, loc));
    } finally {
      fs.closeSync(fd);
    }
  } else if (t.rawData && t.rawData.length) {
    raw = t.rawData;
  }
  if (type === onnx.TensorProto.DataType.FLOAT) {
    if (raw) {
      const out = new Float32Array(n);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    return Float32Array.from(t.floatData ?? []);
  }
  if (type === onnx.TensorProto.DataType.UINT8 || type === onnx.TensorProto.DataType.INT8) {
    const Ctor = type === onnx.TensorProto.DataType.UINT8 ? Uint8Array : Int8Array;
    if (raw) return Ctor.from(raw.subarray(0, n));
    return Ctor.from((t.int32Data ?? []) as number[]);
  }
  throw new ModelError(`tensor ${t.name} has data type ${type}, not float32 or 8-bit`, file);
}

/**
 * Split the ONNX model in `file` (its external data, if any, beside it).
 * @param logitsName the output holding CTC logits (default: 'logits', else the only output)
 * @param refuseHint what to tell the user when the projection cannot be read (e.g. the file to use instead)
 */
export function splitCtcGraph(file: string, logitsName = 'logits', refuseHint = ''): SplitGraph {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(fs.readFileSync(file));
  } catch (err) {
    throw new ModelError(`not a readable ONNX file (${(err as Error).message.split('\n')[0]})`, file);
  }
  const g = model.graph;
  if (!g) throw new ModelError('ONNX file has no graph', file);
  const outputs = g.output ?? [];
  const out = outputs.find((o) => o.name === logitsName) ?? (outputs.length === 1 ? outputs[0] : undefined);
  if (!out?.name) throw new ModelError(`no output named ${logitsName} (outputs: ${outputs.map((o) => o.name).join(', ')})`, file);
  const producer = new Map<string, NodeProto>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const inits = new Map<string, TensorProto>((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  // Constant nodes hold weights too in some exports.
  for (const n of g.node ?? []) if (n.opType === 'Constant' && n.output?.[0]) {
    const v = n.attribute?.find((a) => a.name === 'value')?.t;
    if (v) inits.set(n.output[0], { ...v, name: n.output[0] } as TensorProto);
  }
  const dir = path.dirname(file);
  const refuse = (why: string): never => { throw new ModelError(`cannot split the CTC head: ${why}${refuseHint ? `; ${refuseHint}` : ''}`, file); };
  const floats = (name: string): Float32Array => {
    const t = inits.get(name);
    if (!t) return refuse(`${name} is not a constant weight`);
    const v = tensorValues(t, dir, file);
    return v instanceof Float32Array ? v : refuse(`${name} is not float32`);
  };
  const dims = (name: string): number[] => (inits.get(name)?.dims ?? []).map(toNum);

  let node = producer.get(out.name);
  let bias: Float32Array | undefined;
  if (node?.opType === 'Add') {
    const [a, b] = node.input ?? [];
    const bName = inits.has(b) ? b : inits.has(a) ? a : undefined;
    if (!bName) refuse(`the final Add has no constant bias`);
    bias = floats(bName!);
    node = producer.get(bName === b ? a : b);
  }
  let weight: Float32Array, hidden: string, d: number, V: number, projection: SplitGraph['projection'];
  if (node?.opType === 'MatMul' && inits.has(node.input![1])) {
    hidden = node.input![0];
    [d, V] = dims(node.input![1]);
    weight = floats(node.input![1]);
    projection = 'matmul';
  } else if (node?.opType === 'Gemm' && inits.has(node.input![1])) {
    const attr = (n: string): number => toNum(node!.attribute?.find((a) => a.name === n)?.i ?? (n === 'transB' || n === 'transA' ? 0 : 1));
    if (attr('transA') !== 0) refuse('Gemm with transA');
    hidden = node.input![0];
    const w = floats(node.input![1]), wd = dims(node.input![1]);
    if (attr('transB')) {
      [V, d] = wd;
      weight = new Float32Array(d * V);
      for (let i = 0; i < V; i++) for (let j = 0; j < d; j++) weight[j * V + i] = w[i * d + j];
    } else {
      [d, V] = wd;
      weight = w;
    }
    const alpha = node.attribute?.find((a) => a.name === 'alpha')?.f ?? 1;
    if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i] *= alpha;
    if (node.input![2]) {
      const c = floats(node.input![2]);
      const beta = node.attribute?.find((a) => a.name === 'beta')?.f ?? 1;
      bias = bias ?? new Float32Array(V);
      for (let i = 0; i < V; i++) bias[i] += beta * c[c.length === 1 ? 0 : i];
    }
    projection = 'gemm';
  } else if (node?.opType === 'Mul') {
    ({ weight, hidden, d, V } = dequantized(node, producer, inits, dims, (n) => tensorValues(inits.get(n)!, dir, file), refuse));
    projection = 'quantized';
  } else {
    return refuse(`the logits come from ${node ? `a ${node.opType} node` : 'no node'}, not a MatMul, Gemm or quantised MatMul with constant weights`);
  }
  if (!(d! > 0 && V! > 0) || weight!.length !== d! * V!) refuse(`the projection's weights have shape [${dims(node!.input![1]).join(', ')}]`);
  bias = bias ?? new Float32Array(V!);
  if (bias.length !== V!) refuse(`the bias has ${bias.length} values for ${V!} outputs`);

  // The hidden state becomes a second output: [batch, frames, d], float.
  const shape = (out.type?.tensorType?.shape?.dim ?? []).slice(0, 2).map((x) => ({ ...x }));
  const vi = onnx.ValueInfoProto.create({
    name: hidden!,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [...(shape.length === 2 ? shape : [{ dimParam: 'batch_size' }, { dimParam: 'frames' }]), { dimValue: d! }] } } },
  });
  g.output = [...outputs, vi];
  const external = new Set<string>();
  for (const t of g.initializer ?? []) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    if (loc) external.add(loc);
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), hiddenOutput: hidden!, weight: weight!, bias, dim: d!, vocabSize: V!, projection: projection!, externalData: [...external] };
}

/**
 * onnxruntime's dynamic quantisation of y = x W: (xq, xs, xz) = DynamicQuantizeLinear(x);
 * y = Cast(MatMulInteger(xq, Wq, xz, Wz)) * (xs * Ws). W = (Wq - Wz) * Ws (per tensor or per column).
 */
function dequantized(mul: NodeProto, producer: Map<string, NodeProto>, inits: Map<string, TensorProto>, dims: (n: string) => number[],
  values: (n: string) => Float32Array | Uint8Array | Int8Array, refuse: (why: string) => never): { weight: Float32Array; hidden: string; d: number; V: number } {
  const ins = (mul.input ?? []).map((i) => producer.get(i));
  const castAt = ins.findIndex((n) => n?.opType === 'Cast');
  const cast = ins[castAt];
  const mm = cast && producer.get(cast.input![0]);
  if (!mm || mm.opType !== 'MatMulInteger') return refuse('the final projection is not a recognised quantised MatMul');
  const [aq, wq, , wz] = mm.input ?? [];
  const dq = producer.get(aq);
  if (dq?.opType !== 'DynamicQuantizeLinear' || !inits.has(wq)) return refuse('the quantised projection has no constant weights');
  // The scale: Mul(xs, Ws) where xs is DynamicQuantizeLinear's second output and Ws a constant.
  const scaleIn = mul.input![1 - castAt];
  const scaleNode = producer.get(scaleIn);
  let ws: Float32Array | undefined;
  if (scaleNode?.opType === 'Mul') {
    const c = (scaleNode.input ?? []).find((i) => inits.has(i));
    if (c) ws = values(c) as Float32Array;
  }
  if (!(ws instanceof Float32Array)) return refuse('the quantised projection\'s weight scale is not a constant');
  const [d, V] = dims(wq);
  const q = values(wq);
  const z = wz && inits.has(wz) ? values(wz) : new Uint8Array(1);
  const weight = new Float32Array(d * V);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < V; j++) {
      const zp = z.length === 1 ? z[0] : z[j], s = ws.length === 1 ? ws[0] : ws[j];
      weight[i * V + j] = (q[i * V + j] - zp) * s;
    }
  }
  return { weight, hidden: dq.input![0], d, V };
}
