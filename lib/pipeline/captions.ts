/**
 * Transcript output formats. Captions (SRT, WebVTT) group words into lines of at most
 * `maxChars` characters and `maxSeconds` seconds, breaking early at pauses longer than `pauseSeconds`.
 */
import type { WordTiming } from '../decode/types.js';
import type { Transcript } from './recognizer.js';

export type OutputFormat = 'text' | 'json' | 'srt' | 'vtt';

export interface Cue { start: number; end: number; text: string }

export function groupCaptions(words: WordTiming[], maxChars = 42, maxSeconds = 5, pauseSeconds = 0.6): Cue[] {
  const cues: Cue[] = [];
  let cur: WordTiming[] = [];
  const flush = (): void => {
    if (cur.length) cues.push({ start: cur[0].start, end: cur[cur.length - 1].end, text: cur.map((w) => w.word).join(' ') });
    cur = [];
  };
  for (const w of words) {
    if (cur.length) {
      const text = cur.map((x) => x.word).join(' ').length + 1 + w.word.length;
      if (text > maxChars || w.end - cur[0].start > maxSeconds || w.start - cur[cur.length - 1].end > pauseSeconds) flush();
    }
    cur.push(w);
  }
  flush();
  return cues;
}

function stamp(seconds: number, sep: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`;
}

export function toSrt(t: Transcript): string {
  return groupCaptions(t.words).map((c, i) => `${i + 1}\n${stamp(c.start, ',')} --> ${stamp(c.end, ',')}\n${c.text}\n`).join('\n');
}

export function toVtt(t: Transcript): string {
  return 'WEBVTT\n\n' + groupCaptions(t.words).map((c) => `${stamp(c.start, '.')} --> ${stamp(c.end, '.')}\n${c.text}\n`).join('\n');
}

/** The transcript of one file in a format; `file` goes into JSON output. */
export function formatTranscript(t: Transcript, format: OutputFormat, file?: string): string {
  switch (format) {
    case 'text': return `${t.text}\n`;
    case 'json': return JSON.stringify({ ...(file ? { file } : {}), ...t }, null, 2) + '\n';
    case 'srt': return toSrt(t);
    case 'vtt': return toVtt(t);
  }
}
