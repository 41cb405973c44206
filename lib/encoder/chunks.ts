/**
 * Chunk plans for long audio, in units of encoder output frames. Each chunk is encoded on its own
 * (memory stays bounded) with `context` frames of overlap on each inner side that are encoded but
 * discarded, so every kept frame saw at least `context` frames of real audio around it.
 *
 *   chunk k covers [start, end), keeps [keepStart, keepEnd); keepEnd of k = keepStart of k + 1.
 */
export interface Chunk {
  start: number;
  end: number;
  keepStart: number;
  keepEnd: number;
}

/**
 * @param total output frames of the whole input
 * @param chunk frames per chunk (> 2 * context)
 * @param context frames discarded at each inner edge
 */
export function planChunks(total: number, chunk: number, context: number): Chunk[] {
  if (!(chunk > 2 * context) || context < 0) throw new RangeError(`chunk (${chunk}) must exceed twice the context (${context})`);
  if (total <= chunk) return [{ start: 0, end: total, keepStart: 0, keepEnd: total }];
  const step = chunk - 2 * context;
  const chunks: Chunk[] = [{ start: 0, end: chunk, keepStart: 0, keepEnd: chunk - context }];
  for (let start = step; ; start += step) {
    const last = start + chunk >= total;
    chunks.push({ start, end: Math.min(total, start + chunk), keepStart: start + context, keepEnd: last ? total : start + chunk - context });
    if (last) return chunks;
  }
}
