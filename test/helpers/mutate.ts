/** Seeded mutations of input files for the fuzz tests. */
/** A mutated copy of `src`: one of truncation, header field overwrite, huge size, random bytes, splice. */
export function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const b = Uint8Array.from(src);
  const v = new DataView(b.buffer);
  const at = (n: number): number => Math.floor(r() * Math.max(1, n));
  switch (at(7)) {
    case 0: return b.subarray(0, at(b.length)); // truncated anywhere
    case 1: { // a header field (first 64 bytes) set to an extreme value
      const off = at(Math.min(60, b.length - 4));
      const vals = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, at(2 ** 32)];
      if (b.length >= off + 4) v.setUint32(off, vals[at(vals.length)], true);
      return b;
    }
    case 2: { // 16-bit header fields: format, channels, block align, bits
      for (const off of [20, 22, 32, 34]) if (r() < 0.5 && b.length > off + 2) v.setUint16(off, [0, 1, 3, 6, 7, 0xfffe, 0xffff, at(65536)][at(8)], true);
      return b;
    }
    case 3: { for (let i = 0, n = 1 + at(20); i < n; i++) b[at(b.length)] = at(256); return b; } // random bytes
    case 4: { const o = at(b.length); return Uint8Array.from([...b.subarray(0, o), ...Array.from({ length: at(300) }, () => at(256)), ...b.subarray(o)]); } // inserted junk
    case 5: { if (b.length > 44) v.setUint32(16, at(2 ** 32), true); return b; } // fmt chunk size
    default: return Uint8Array.from({ length: at(2000) }, () => at(256)); // pure noise
  }
}

