/**
 * G.711 mu-law codec (ITU-T Recommendation G.711, 1988, section 3 "mu-law"), the encoding of Twilio Media
 * Streams audio (`audio/x-mulaw`, 8000 Hz, one byte per sample).
 *
 * Encoder: the classic Sun / CCITT reference algorithm — take magnitude, clip to 32635, add bias 0x84 (132),
 * find the segment (exponent 0..7) from the position of the highest set bit above bit 7, keep 4 mantissa bits,
 * then invert all bits. Decoder: a 256-entry table built from the inverse formula
 * `((mantissa << 3) + 0x84) << exponent) - 0x84`, negated when the sign bit (after inversion) is set.
 * Known values: 0xFF → 0, 0x7F → 0, 0x00 → -32124, 0x80 → 32124.
 */

const BIAS = 0x84;
const CLIP = 32635;

/** Decoded value (PCM16) of every mu-law byte. */
const DECODE_TABLE: Int16Array = (() => {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) {
    const u = ~i & 0xff;
    const sign = u & 0x80;
    const exponent = (u >> 4) & 0x07;
    const mantissa = u & 0x0f;
    const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    t[i] = sign ? -magnitude : magnitude;
  }
  return t;
})();

/** Segment (exponent) for a biased magnitude's bits 7..14, i.e. floor(log2(v >> 7)) clamped to 0..7. */
const EXPONENT_TABLE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = Math.floor(Math.log2(i));
  return t;
})();

/** Encodes one PCM16 sample (any number; clamped to the int16 range first) to a mu-law byte. */
export function mulawEncodeSample(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  const exponent = EXPONENT_TABLE[(s >> 7) & 0xff];
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/**
 * Decodes mu-law bytes (one byte per sample) to PCM16 samples.
 * @param bytes mu-law data, any length (0 allowed).
 * @returns Int16Array of the same length; values in [-32124, 32124].
 */
export function mulawDecode(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = DECODE_TABLE[bytes[i]];
  return out;
}

/** Whether this host stores an Int16Array little-endian (every platform Node ships on today). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes two mu-law channels of `n` samples each into interleaved little-endian PCM16 bytes (left, right, left …),
 * i.e. the data of a 2-channel 16-bit WAV file.
 * @returns a Buffer of `4 * n` bytes.
 * @throws RangeError when either channel is shorter than `n`.
 */
export function mulawDecodeStereo(left: Uint8Array, right: Uint8Array, n: number): Buffer {
  if (left.length < n || right.length < n) throw new RangeError(`mulawDecodeStereo: ${n} samples asked, channels hold ${left.length} and ${right.length}`);
  const pcm = new Int16Array(2 * n);
  for (let i = 0; i < n; i++) {
    pcm[2 * i] = DECODE_TABLE[left[i]];
    pcm[2 * i + 1] = DECODE_TABLE[right[i]];
  }
  const out = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  if (!LITTLE_ENDIAN) out.swap16(); // typed arrays use the host's byte order; WAV is little-endian
  return out;
}

/**
 * Encodes PCM16 samples to mu-law bytes (one byte per sample). Magnitudes above 32635 are clipped (G.711).
 * @param samples signed 16-bit PCM, any sample rate (the codec is rate-agnostic; Twilio expects 8000 Hz).
 * @returns Uint8Array of the same length.
 */
export function mulawEncode(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = mulawEncodeSample(samples[i]);
  return out;
}
