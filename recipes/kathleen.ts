/**
 * Kathleen's prompts split as every recipe splits them: sorted by file, every 8th test, every 8th
 * offset by 4 dev, the rest train. One definition, so that no recipe trains on her test prompts.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface KathleenPrompt { file: string; text: string; split: 'train' | 'dev' | 'test' }

/** The prompts of `<shared>/corpora/real/en-US_kathleen` with their split; `file` is the bare name. */
export function kathleenPrompts(shared: string): { dir: string; prompts: KathleenPrompt[] } {
  const dir = path.join(shared, 'corpora', 'real', 'en-US_kathleen');
  const lines = fs.readFileSync(path.join(dir, 'transcripts.tsv'), 'utf8').split('\n').filter(Boolean)
    .map((l) => l.split('\t')).sort((a, b) => a[0].localeCompare(b[0]));
  return { dir, prompts: lines.map(([file, text], i) => ({ file, text, split: i % 8 === 0 ? 'test' : i % 8 === 4 ? 'dev' : 'train' })) };
}
