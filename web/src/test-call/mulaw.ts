/**
 * G.711 mu-law codec for the browser (ITU-T G.711 §3), table based. A KNOWN PARALLEL IMPLEMENTATION of the server's
 * src/audio/mulaw.ts (the browser cannot import server code): same algorithm (Sun / CCITT reference encoder: clip
 * to 32635, bias 0x84, segment from the highest set bit, 4 mantissa bits, inverted; decoder
 * `((mantissa << 3) + 0x84) << exponent) - 0x84`). test/unit/web/mulaw.test.ts checks both on all 256 codes and a
 * sweep of samples so they cannot drift. Pure: no DOM, usable in an AudioWorklet.
 */

const BIAS = 0x84;
const CLIP = 32635;

/** PCM16 value of every mu-law byte. */
const DECODE: Int16Array = (() => {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) {
    const u = ~i & 0xff;
    const magnitude = ((((u & 0x0f) << 3) + BIAS) << ((u >> 4) & 0x07)) - BIAS;
    t[i] = u & 0x80 ? -magnitude : magnitude;
  }
  return t;
})();

/** Segment (exponent) of a biased magnitude's bits 7..14: floor(log2(v >> 7)), 0 for 0. */
const SEGMENT: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = 31 - Math.clz32(i);
  return t;
})();

/** mu-law byte of one PCM16 sample (any number: rounded, clamped to the int16 range, magnitude clipped to 32635). */
export function encodeMulawSample(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  const exponent = SEGMENT[(s >> 7) & 0xff];
  return ~(sign | (exponent << 4) | ((s >> (exponent + 3)) & 0x0f)) & 0xff;
}

/** PCM16 value (−32124…32124) of one mu-law byte. */
export function decodeMulawSample(byte: number): number {
  return DECODE[byte & 0xff];
}

/** mu-law bytes → Float32 samples in [−1, 1) (PCM16 / 32768), one per byte. */
export function mulawToFloat32(bytes: Uint8Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = DECODE[bytes[i]] / 32768;
  return out;
}

/** mu-law byte of one Float32 sample in [−1, 1] (scaled by 32768, clamped). */
export function float32ToMulawSample(x: number): number {
  return encodeMulawSample(x * 32768);
}
