/**
 * The example page (examples/web/index.html): pick a model (an export listed in models.json), drop
 * or choose a WAV, or record from the microphone (AudioWorklet -> createStream), and see the words
 * with their times, confidence as shading, and the real-time factor. Built by build.ts into dist/web.
 */
import { decodeWav, loadWebRecognizer, type Recognizer, type Transcript } from './adapt-asr.web.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = (s: string): void => { $('status').textContent = s; };
const state: { rec?: Recognizer; last?: { text: string; words: Transcript['words']; rtf: number; duration: number }; loadMs?: number; bytes?: number; error?: string } = {};
(window as unknown as { adaptAsr: typeof state }).adaptAsr = state;

function show(t: { text: string; words: Transcript['words'] }): void {
  const p = $('transcript');
  p.replaceChildren(...t.words.map((w) => {
    const s = document.createElement('span');
    const time = document.createElement('sub');
    time.textContent = w.start.toFixed(1);
    s.append(`${w.word}`, time, ' ');
    s.title = `${w.start.toFixed(2)}–${w.end.toFixed(2)} s, confidence ${w.confidence.toFixed(2)}`;
    s.style.background = `rgba(40, 90, 200, ${(0.08 + 0.5 * w.confidence).toFixed(2)})`;
    return s;
  }));
  p.dataset.text = t.text;
}

async function load(url: string): Promise<void> {
  status(`loading ${url}…`);
  state.rec = undefined;
  const t0 = performance.now();
  const { recognizer, files } = await loadWebRecognizer(url, { onFile: (name, n) => { $('load').textContent = `${name}: ${(n / 2 ** 20).toFixed(1)} MB`; } });
  state.rec = recognizer;
  state.loadMs = performance.now() - t0;
  state.bytes = Object.values(files).reduce((a, b) => a + b, 0);
  $('load').textContent = `${(state.bytes / 2 ** 20).toFixed(1)} MB in ${(state.loadMs / 1000).toFixed(1)} s`;
  status('ready');
}

async function transcribeFile(file: File): Promise<void> {
  $('error').textContent = '';
  state.error = undefined;
  if (!state.rec) return;
  let audio;
  try {
    audio = decodeWav(new Uint8Array(await file.arrayBuffer()), file.name);
  } catch (err) {
    state.error = (err as Error).message;
    $('error').textContent = `${state.error}. Choose a WAV file (PCM or float, any rate).`;
    status('ready');
    return;
  }
  status(`transcribing ${file.name}…`);
  const t0 = performance.now();
  const t = await state.rec.transcribe(audio);
  const seconds = (performance.now() - t0) / 1000;
  state.last = { text: t.text, words: t.words, duration: t.duration, rtf: seconds / t.duration };
  show(t);
  $('rtf').textContent = `${t.duration.toFixed(2)} s of audio in ${seconds.toFixed(2)} s: real-time factor ${state.last.rtf.toFixed(3)}`;
  status('done');
}

// The AudioWorklet hands 128-sample blocks of the microphone to the page.
const WORKLET = `registerProcessor('tap', class extends AudioWorkletProcessor {
  process(inputs) { const x = inputs[0][0]; if (x) this.port.postMessage(x.slice(0)); return true; }
});`;
let stopRecording: (() => Promise<void>) | undefined;

async function record(): Promise<void> {
  if (!state.rec) return;
  $('error').textContent = '';
  const media = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false } });
  const ctx = new AudioContext();
  await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([WORKLET], { type: 'text/javascript' })));
  const tap = new AudioWorkletNode(ctx, 'tap');
  ctx.createMediaStreamSource(media).connect(tap);
  const stream = state.rec.createStream({ sampleRate: ctx.sampleRate });
  let pending: Float32Array[] = [], n = 0;
  const take = (): Float32Array => {
    const chunk = new Float32Array(n);
    let o = 0;
    for (const p of pending) { chunk.set(p, o); o += p.length; }
    pending = []; n = 0;
    return chunk;
  };
  tap.port.onmessage = (e: MessageEvent<Float32Array>) => {
    pending.push(e.data);
    n += e.data.length;
    if (n < ctx.sampleRate / 10) return; // feed 0.1 s at a time
    void stream.acceptWaveform(take()).then((r) => { if (r) { $('transcript').textContent = r.text; status(`listening… ${r.audioSeconds.toFixed(1)} s`); } });
  };
  status('listening…');
  $('record').toggleAttribute('disabled', true);
  $('stop').toggleAttribute('disabled', false);
  stopRecording = async () => {
    // No block may reach the stream once it finishes: detach the tap first, then feed what it left.
    tap.port.onmessage = null;
    tap.disconnect();
    media.getTracks().forEach((t) => t.stop());
    await ctx.close();
    if (n > 0) await stream.acceptWaveform(take());
    const t = await stream.finish();
    state.last = { text: t.text, words: t.words, duration: t.duration, rtf: NaN };
    show(t);
    status('done');
    $('record').toggleAttribute('disabled', false);
    $('stop').toggleAttribute('disabled', true);
  };
}

async function main(): Promise<void> {
  const list = new URL(new URLSearchParams(location.search).get('models') ?? 'models.json', location.href);
  const models = (await (await fetch(list)).json()) as { name: string; url: string }[];
  const select = $<HTMLSelectElement>('model');
  for (const m of models) select.add(new Option(m.name, new URL(m.url, list).href));
  const wanted = new URLSearchParams(location.search).get('model');
  if (wanted) select.value = models.find((m) => m.name === wanted) ? new URL(models.find((m) => m.name === wanted)!.url, list).href : select.value;
  select.onchange = () => void load(select.value).catch(fail);
  $<HTMLInputElement>('file').onchange = (e) => { const f = (e.target as HTMLInputElement).files?.[0]; if (f) void transcribeFile(f).catch(fail); };
  const drop = $('drop');
  drop.ondragover = (e) => { e.preventDefault(); drop.classList.add('over'); };
  drop.ondragleave = () => drop.classList.remove('over');
  drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove('over'); const f = e.dataTransfer?.files[0]; if (f) void transcribeFile(f).catch(fail); };
  $('record').onclick = () => void record().catch(fail);
  $('stop').onclick = () => void stopRecording?.().catch(fail);
  await load(select.value);
}

function fail(err: unknown): void {
  state.error = (err as Error).message;
  $('error').textContent = state.error;
  status('error');
}

void main().catch(fail);
