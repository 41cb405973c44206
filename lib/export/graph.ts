/**
 * One ONNX graph from features to CTC log-probabilities: the frozen encoder's graph with the
 * adapter (or an ensemble of them) and the CTC head appended as ONNX operators, so that any ONNX
 * runtime computes what `Recognizer.logProbs` computes (lib/adapter/math.ts):
 *
 *   adapter:  n = LayerNorm(h); z = ReLU(Conv1d_ctx(n) + b_down); y = h + z W_up + b_up
 *             (the context window of math.ts is a 1-d convolution over time with zero padding)
 *   top:      x' = x + SiLU(LayerNorm(DepthwiseConv1d_k(x) W_pw + b_pw)) per block
 *   head:     log_probs = LogSoftmax(y W_head + b_head)
 *   ensemble: log(mean_k exp(log_probs_k)) = ReduceLogSumExp over members - log K
 *
 * Nodes the new output does not need (the encoder's other outputs) are pruned. Opsets 13 to 21
 * are handled: LayerNormalization is used from opset 17, reductions take their axes as an input
 * from opset 18.
 */
import onnxProto from 'onnx-proto';
import { ModelError } from '../errors.js';
import { LN_EPS } from '../math/matrix.js';
import type { AdapterWeights, TopBlock } from '../adapter/math.js';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** The name of the exported graph's output: (1, frames, V) log-probabilities. */
export const LOG_PROBS = 'log_probs';

/** What to append to the encoder: the hidden output it starts from, and the members (or the base head). */
export interface ExportHead {
  /** The encoder output the appended nodes read (the hidden states, or the input of the top blocks). */
  from: string;
  /** The adapter's members; empty for the base model's own head. */
  members: readonly AdapterWeights[];
  /** The base head (d, V) and (V,), used when there are no members. */
  headW: Float32Array;
  headB: Float32Array;
  dim: number;
  vocabSize: number;
}

const toNum = (v: number | { toNumber(): number } | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

/** Appends nodes and constants to a graph under one name prefix. */
class Builder {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private n = 0;
  constructor(readonly opset: number) {}

  private fresh(base: string): string {
    return `adapt_asr/${base}_${this.n++}`;
  }

  floats(base: string, data: Float32Array, dims: number[]): string {
    const name = this.fresh(base);
    this.inits.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: new Uint8Array(Float32Array.from(data).buffer) }));
    return name;
  }

  ints(base: string, values: number[]): string {
    const name = this.fresh(base);
    this.inits.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) }));
    return name;
  }

  op(type: string, inputs: string[], attrs: AttributeProto[] = [], output?: string): string {
    const out = output ?? this.fresh(type.toLowerCase());
    this.nodes.push(onnx.NodeProto.create({ opType: type, input: inputs, output: [out], attribute: attrs, name: this.fresh(`node_${type}`) }));
    return out;
  }

  /** A reduction over `axes` keeping them (axes an attribute before opset 18, an input after). */
  reduce(type: string, x: string, axes: number[], keepdims: 0 | 1 = 1): string {
    const keep = attrInt('keepdims', keepdims);
    return this.opset >= 18 ? this.op(type, [x, this.ints('axes', axes)], [keep]) : this.op(type, [x], [attrInts('axes', axes), keep]);
  }

  /** LayerNorm over the last axis with gain and bias, eps as lib/math/matrix.ts. */
  layerNorm(x: string, gain: Float32Array, bias: Float32Array): string {
    const g = this.floats('ln_gain', gain, [gain.length]), b = this.floats('ln_bias', bias, [bias.length]);
    if (this.opset >= 17) return this.op('LayerNormalization', [x, g, b], [attrInt('axis', -1), attrFloat('epsilon', LN_EPS)]);
    const mean = this.reduce('ReduceMean', x, [-1]);
    const xc = this.op('Sub', [x, mean]);
    const variance = this.reduce('ReduceMean', this.op('Mul', [xc, xc]), [-1]);
    const den = this.op('Sqrt', [this.op('Add', [variance, this.floats('eps', new Float32Array([LN_EPS]), [])])]);
    return this.op('Add', [this.op('Mul', [this.op('Div', [xc, den]), g]), b]);
  }

  /** x (1, T, K) W (K, N) + b. */
  linear(x: string, w: Float32Array, b: Float32Array, K: number, N: number): string {
    return this.op('Add', [this.op('MatMul', [x, this.floats('w', w, [K, N])]), this.floats('b', b, [N])]);
  }

  /** (1, T, C) <-> (1, C, T). */
  swap(x: string): string {
    return this.op('Transpose', [x], [attrInts('perm', [0, 2, 1])]);
  }
}

const attrInt = (name: string, i: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const attrInts = (name: string, ints: number[]): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
const attrFloat = (name: string, f: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });

/** The residual bottleneck adapter over h (1, T, d): conv weight (r, d, ctx) from downW (ctx * d, r). */
function adapterNodes(b: Builder, h: string, w: AdapterWeights): string {
  const d = w.dim, r = w.bottleneck, ctx = w.context, k = (ctx - 1) >> 1;
  const n = b.layerNorm(h, w.lnGain!, w.lnBias!);
  const conv = new Float32Array(r * d * ctx);
  for (let j = 0; j < ctx; j++) for (let c = 0; c < d; c++) for (let o = 0; o < r; o++) conv[(o * d + c) * ctx + j] = w.downW![(j * d + c) * r + o];
  const z = b.op('Conv', [b.swap(n), b.floats('down_w', conv, [r, d, ctx]), b.floats('down_b', w.downB!, [r])], [attrInts('kernel_shape', [ctx]), attrInts('pads', [k, k])]);
  const up = b.linear(b.swap(b.op('Relu', [z])), w.upW!, w.upB!, r, d);
  return b.op('Add', [up, h]);
}

/** One fine-tuned conv block over x (1, T, d): depthwise weight (d, 1, kernel) from dwW (kernel, d). */
function topBlockNodes(b: Builder, x: string, blk: TopBlock, d: number, kernel: number): string {
  const half = (kernel - 1) >> 1;
  const dw = new Float32Array(d * kernel);
  for (let j = 0; j < kernel; j++) for (let c = 0; c < d; c++) dw[c * kernel + j] = blk.dwW[j * d + c];
  const u = b.op('Conv', [b.swap(x), b.floats('dw_w', dw, [d, 1, kernel]), b.floats('dw_b', blk.dwB, [d])],
    [attrInts('kernel_shape', [kernel]), attrInts('pads', [half, half]), attrInt('group', d)]);
  const z = b.layerNorm(b.linear(b.swap(u), blk.pwW, blk.pwB, d, d), blk.lnG, blk.lnB);
  return b.op('Add', [x, b.op('Mul', [z, b.op('Sigmoid', [z])])]);
}

/** Log-probabilities (1, T, V) of one member over h. */
function memberNodes(b: Builder, h: string, w: AdapterWeights): string {
  let y = h;
  if (w.method === 'adapter') y = adapterNodes(b, h, w);
  else if (w.method === 'top') for (const blk of w.top!) y = topBlockNodes(b, y, blk, w.dim, w.kernel!);
  return b.op('LogSoftmax', [b.linear(y, w.headW, w.headB, w.dim, w.vocabSize)], [attrInt('axis', -1)]);
}

/** The default ONNX domain's opset of a model (1 when it names none). */
export function modelOpset(model: ModelProto): number {
  const o = (model.opsetImport ?? []).find((x) => !x.domain || x.domain === 'ai.onnx');
  return toNum(o?.version) || 1;
}

/**
 * Append the head to the encoder graph in `encoder` (serialised ONNX) and return the new model,
 * serialised, whose only output is LOG_PROBS [1, frames, V]. `file` names the encoder in errors.
 */
export function buildExportGraph(encoder: Uint8Array, head: ExportHead, file: string): Uint8Array {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(encoder);
  } catch (err) {
    throw new ModelError(`not a readable ONNX file (${(err as Error).message.split('\n')[0]})`, file);
  }
  const g = model.graph;
  if (!g) throw new ModelError('ONNX file has no graph', file);
  const opset = modelOpset(model);
  if (opset < 13) throw new ModelError(`the encoder uses ONNX opset ${opset}; export needs 13 or newer`, file);
  const producer = new Set((g.node ?? []).flatMap((n) => n.output ?? []));
  if (!producer.has(head.from) && !(g.input ?? []).some((i) => i.name === head.from)) throw new ModelError(`the encoder graph has no value named ${head.from}`, file);

  const b = new Builder(opset);
  let out: string;
  if (head.members.length === 0) {
    out = b.op('LogSoftmax', [b.linear(head.from, head.headW, head.headB, head.dim, head.vocabSize)], [attrInt('axis', -1)], LOG_PROBS);
  } else if (head.members.length === 1) {
    out = b.op('Identity', [memberNodes(b, head.from, head.members[0])], [], LOG_PROBS);
  } else {
    // (K, T, V) -> log-sum-exp over members -> (1, T, V), minus log K.
    const stacked = b.op('Concat', head.members.map((w) => memberNodes(b, head.from, w)), [attrInt('axis', 0)]);
    const lse = b.reduce('ReduceLogSumExp', stacked, [0], 1);
    out = b.op('Sub', [lse, b.floats('log_k', new Float32Array([Math.log(head.members.length)]), [])], [], LOG_PROBS);
  }

  // Keep only what the new output needs.
  const nodes = [...(g.node ?? []), ...b.nodes];
  const needed = new Set<string>([out]);
  const kept: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const x of n.input ?? []) if (x) needed.add(x);
    // Subgraphs (If, Loop) read outer values by name.
    for (const a of n.attribute ?? []) for (const sg of [a.g, ...(a.graphs ?? [])]) for (const sn of sg?.node ?? []) for (const x of sn.input ?? []) needed.add(x);
  }
  g.node = kept.reverse();
  g.initializer = [...(g.initializer ?? []), ...b.inits].filter((t) => needed.has(t.name ?? ''));
  g.valueInfo = (g.valueInfo ?? []).filter((v) => needed.has(v.name ?? ''));
  const batch = g.input?.[0]?.type?.tensorType?.shape?.dim?.[0];
  g.output = [onnx.ValueInfoProto.create({
    name: LOG_PROBS,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [batch ? { ...batch } : { dimValue: 1 }, { dimParam: 'frames' }, { dimValue: head.vocabSize }] } } },
  })];
  model.producerName = 'adapt-asr export';
  return onnx.ModelProto.encode(model).finish();
}

/** Output of the sherpa-onnx graph: frames per utterance, int64 [N]. */
export const LOG_PROBS_LEN = 'log_probs_len';

/**
 * The export graph in the form sherpa-onnx runs offline CTC models (its zipformer2 CTC layout):
 * inputs x [N, T, F] (its Kaldi fbank, not normalised) and x_lens [N], outputs log_probs [N, T', V]
 * and log_probs_len [N]. Per-utterance mean and variance normalisation (normalizeUtterance, variance
 * floor 1e-5) goes into the graph, since sherpa-onnx gives this model type raw fbank.
 */
export function sherpaCtcGraph(exported: Uint8Array, inputName: string, normalize: 'utterance' | 'none', meta: Record<string, string>): Uint8Array {
  const model = onnx.ModelProto.decode(exported);
  const g = model.graph!;
  const old = (g.input ?? []).find((i) => i.name === inputName);
  const F = old?.type?.tensorType?.shape?.dim?.[2]?.dimValue;
  if (!old || F == null) throw new ModelError(`the export has no input ${inputName} [1, frames, F]`);
  const b = new Builder(modelOpset(model));
  const tensor = (name: string, elemType: number, dim: object[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim } } } });
  if (normalize === 'utterance') {
    const mean = b.reduce('ReduceMean', 'x', [1]);
    const xc = b.op('Sub', ['x', mean]);
    const variance = b.reduce('ReduceMean', b.op('Mul', [xc, xc]), [1]);
    const den = b.op('Sqrt', [b.op('Add', [variance, b.floats('floor', new Float32Array([1e-5]), [])])]);
    b.op('Div', [xc, den], [], inputName);
  } else {
    b.op('Identity', ['x'], [], inputName);
  }
  const first = b.nodes.splice(0);
  const shape = b.op('Shape', [LOG_PROBS]);
  b.op('Slice', [shape, b.ints('start', [1]), b.ints('end', [2])], [], LOG_PROBS_LEN);
  g.node = [...first, ...(g.node ?? []), ...b.nodes];
  g.initializer = [...(g.initializer ?? []), ...b.inits];
  const others = (g.input ?? []).filter((i) => i.name !== inputName);
  g.input = [tensor('x', onnx.TensorProto.DataType.FLOAT, [{ dimParam: 'N' }, { dimParam: 'T' }, { dimValue: F }]), tensor('x_lens', onnx.TensorProto.DataType.INT64, [{ dimParam: 'N' }]), ...others];
  const V = g.output?.[0]?.type?.tensorType?.shape?.dim?.[2]?.dimValue;
  g.output = [tensor(LOG_PROBS, onnx.TensorProto.DataType.FLOAT, [{ dimParam: 'N' }, { dimParam: 'frames' }, { dimValue: V }]), tensor(LOG_PROBS_LEN, onnx.TensorProto.DataType.INT64, [{ dimParam: 'N' }])];
  model.metadataProps = Object.entries(meta).map(([key, value]) => ({ key, value }));
  return onnx.ModelProto.encode(model).finish();
}
