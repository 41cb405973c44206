/**
 * The input/output conventions of each encoder kind, as the public exports have them, and the
 * check that an ONNX model fits one.
 *   whisper:  Hugging Face Optimum encoder_model.onnx: input_features [batch, n_mels, 3000] ->
 *             last_hidden_state [batch, 1500, d]; 30 s windows, 20 ms frames.
 *   waveform: wav2vec2 / HuBERT: input_values [batch, samples] (zero mean, unit variance) ->
 *             last_hidden_state or logits [batch, frames, d], 20 ms frames.
 *   features: our own: features [batch, time, n_mels] (or [batch, n_mels, time]) -> [batch, frames, d].
 */
import { featureDim, PRESETS, type PresetName } from '../features/presets.js';
import type { EncoderKind, InputLayout } from './manifest.js';
import type { TensorInfo } from './session.js';

export const WHISPER_FRAMES = 3000; // mel frames per 30 s window
export const WHISPER_OUTPUT_FRAMES = 1500;
export const WHISPER_WINDOW_SAMPLES = 480000; // 30 s at 16 kHz

export interface KindFit {
  ok: boolean;
  /** Why it does not fit (empty when ok). */
  problems: string[];
  input?: { name: string; layout: InputLayout };
  output?: { name: string; type: 'hidden' | 'logits' };
  /** Feature preset implied or confirmed (features and whisper kinds). */
  preset?: PresetName;
}

const fmt = (t: TensorInfo): string => `${t.name} [${t.shape.join(', ')}]`;

/** Does a model with these inputs and outputs fit `kind`? `preset` is the requested preset, if any. */
export function checkKind(kind: EncoderKind, inputs: TensorInfo[], outputs: TensorInfo[], preset?: PresetName): KindFit {
  const problems: string[] = [];
  const floats = inputs.filter((t) => t.type === 'float32');
  if (inputs.length !== 1) problems.push(`it has ${inputs.length} inputs (${inputs.map(fmt).join('; ')}); adapt-asr feeds exactly one`);
  const outs3 = outputs.filter((t) => t.type === 'float32' && t.shape.length === 3);
  const result = (extra: Partial<KindFit>): KindFit => ({ ok: problems.length === 0, problems, ...extra });

  if (kind === 'whisper') {
    const inp = inputs.find((t) => t.name === 'input_features');
    if (!inp) problems.push(`no input named input_features [batch, n_mels, 3000] (it has ${inputs.map(fmt).join('; ')})`);
    let found: PresetName | undefined;
    if (inp) {
      if (inp.type !== 'float32' || inp.shape.length !== 3) problems.push(`input ${fmt(inp)} should be float32 [batch, n_mels, 3000]`);
      const nMels = inp.shape[1], frames = inp.shape[2];
      if (typeof frames === 'number' && frames !== WHISPER_FRAMES) problems.push(`input ${fmt(inp)} takes ${frames} frames; Whisper encoders take 3000 (30 s)`);
      if (nMels === 80 || nMels === 128) found = `whisper-${nMels}` as PresetName;
      else if (typeof nMels === 'number') problems.push(`input ${fmt(inp)} has ${nMels} mel bins; Whisper uses 80 or 128`);
      if (preset && found && preset !== found) problems.push(`the model takes ${nMels} mel bins but preset ${preset} gives ${PRESETS[preset].nMels}; use --preset ${found}`);
      if (preset && !preset.startsWith('whisper')) problems.push(`preset ${preset} is not a Whisper preset`);
    }
    const out = outputs.find((t) => t.name === 'last_hidden_state');
    if (!out) problems.push(`no output named last_hidden_state [batch, 1500, d] (it has ${outputs.map(fmt).join('; ')})`);
    else if (out.shape.length !== 3 || (typeof out.shape[1] === 'number' && out.shape[1] !== WHISPER_OUTPUT_FRAMES)) problems.push(`output ${fmt(out)} should be [batch, 1500, d]`);
    return result({ input: { name: 'input_features', layout: 'BFT' }, output: { name: 'last_hidden_state', type: 'hidden' }, preset: found ?? preset });
  }

  if (kind === 'waveform') {
    const inp = inputs.find((t) => t.name === 'input_values');
    if (!inp) problems.push(`no input named input_values [batch, samples] (it has ${inputs.map(fmt).join('; ')})`);
    else if (inp.type !== 'float32' || inp.shape.length !== 2) problems.push(`input ${fmt(inp)} should be float32 [batch, samples]`);
    const out = outputs.find((t) => t.name === 'last_hidden_state') ?? outputs.find((t) => t.name === 'logits');
    if (!out) problems.push(`no output named last_hidden_state or logits [batch, frames, d] (it has ${outputs.map(fmt).join('; ')})`);
    else if (out.shape.length !== 3) problems.push(`output ${fmt(out)} should be [batch, frames, d]`);
    if (preset) problems.push('a waveform encoder takes raw audio; --preset does not apply');
    return result({ input: { name: 'input_values', layout: 'BS' }, output: out ? { name: out.name, type: out.name === 'logits' ? 'logits' : 'hidden' } : undefined });
  }

  // features
  const want = preset ?? 'kaldi-fbank-80';
  const nMels = featureDim(PRESETS[want]);
  const inp = floats.find((t) => t.shape.length === 3);
  let layout: InputLayout | undefined;
  if (!inp) problems.push(`no float32 input of rank 3 [batch, time, n_mels] (it has ${inputs.map(fmt).join('; ')})`);
  else if (inp.shape[2] === nMels) layout = 'BTF';
  else if (inp.shape[1] === nMels) layout = 'BFT';
  else problems.push(`input ${fmt(inp)} has no dimension of ${nMels} for preset ${want}`);
  const timeDim = layout === 'BTF' ? inp?.shape[1] : layout === 'BFT' ? inp?.shape[2] : undefined;
  if (typeof timeDim === 'number') problems.push(`input ${fmt(inp!)} has a fixed length of ${timeDim} frames; a features encoder takes any length${timeDim === WHISPER_FRAMES ? ' (this looks like a Whisper encoder: use --kind whisper)' : ''}`);
  if (outs3.length === 0) problems.push(`no float32 output of rank 3 [batch, frames, d] (it has ${outputs.map(fmt).join('; ')})`);
  return result({ input: inp && layout ? { name: inp.name, layout } : undefined, output: outs3[0] ? { name: outs3[0].name, type: 'hidden' } : undefined, preset: want });
}
