// wavefile ships its G.711 codecs as ES modules without declarations.
declare module 'wavefile/lib/codecs/alaw.js' {
  export function decodeSample(aLawSample: number): number;
}
declare module 'wavefile/lib/codecs/mulaw.js' {
  export function decodeSample(muLawSample: number): number;
}
