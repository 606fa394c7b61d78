import type { Pcm } from './types';

/**
 * RIFF/WAVE (Microsoft "Multimedia Programming Interface and Data Specifications 1.0", 1991; WAVE_FORMAT_EXTENSIBLE
 * per the Windows "WAVEFORMATEXTENSIBLE" docs) reading and writing for 16-bit PCM only.
 */

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Layout found in a WAV header: where the sample data starts and how it is shaped. */
export interface WavHeader {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Byte offset of the first sample in the buffer. */
  dataOffset: number;
  /** Declared data size in bytes; `null` when unknown (streaming header: 0, 0xFFFFFFFF, or past the end). */
  dataBytes: number | null;
}

/**
 * Reads a RIFF/WAVE header, walking chunks until `data`. Returns `null` when `buf` is a valid prefix that is too
 * short to contain the `data` chunk header yet (for streaming parsers).
 * @throws Error when the bytes are not RIFF/WAVE, the format is not 16-bit integer PCM, or channels/rate are invalid.
 */
export function readWavHeader(buf: Buffer): WavHeader | null {
  if (buf.length < 12) {
    if (!Buffer.from('RIFF').subarray(0, Math.min(4, buf.length)).equals(buf.subarray(0, Math.min(4, buf.length)))) {
      throw new Error('WAV: not a RIFF file');
    }
    return null;
  }
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('WAV: not a RIFF/WAVE file (missing "RIFF"/"WAVE" tags)');
  }
  let off = 12;
  let fmt: { channels: number; sampleRate: number; bitsPerSample: number; blockAlign: number } | null = null;
  while (true) {
    if (off + 8 > buf.length) return null;
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'data') {
      if (!fmt) throw new Error('WAV: "data" chunk before "fmt " chunk');
      const remaining = buf.length - body;
      const unknown = size === 0 || size === 0xffffffff || size > remaining;
      return { ...fmt, dataOffset: body, dataBytes: unknown ? null : size };
    }
    if (body + size > buf.length) return null; // chunk not complete yet
    if (id === 'fmt ') {
      if (size < 16) throw new Error(`WAV: "fmt " chunk too short (${size} bytes)`);
      let format = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const sampleRate = buf.readUInt32LE(body + 4);
      const blockAlign = buf.readUInt16LE(body + 12);
      const bitsPerSample = buf.readUInt16LE(body + 14);
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 40) format = buf.readUInt16LE(body + 24); // SubFormat GUID's first 2 bytes
      if (format !== WAVE_FORMAT_PCM) throw new Error(`WAV: unsupported format tag 0x${format.toString(16)} (only integer PCM)`);
      if (bitsPerSample !== 16) throw new Error(`WAV: unsupported ${bitsPerSample}-bit samples (only 16-bit PCM)`);
      if (channels !== 1 && channels !== 2) throw new Error(`WAV: unsupported channel count ${channels} (only mono or stereo)`);
      if (sampleRate <= 0) throw new Error('WAV: sample rate is 0');
      if (blockAlign !== channels * 2) throw new Error(`WAV: block align ${blockAlign} does not match ${channels} channel(s) of 16 bits`);
      fmt = { channels, sampleRate, bitsPerSample, blockAlign };
    }
    off = body + size + (size & 1); // chunks are word-aligned
  }
}

/**
 * Converts interleaved little-endian PCM16 bytes to mono samples (stereo → mean of both channels).
 * Trailing bytes that do not fill a whole frame are ignored.
 */
export function pcm16leToMono(bytes: Uint8Array, channels: number): Int16Array {
  const frameBytes = 2 * channels;
  const n = Math.floor(bytes.length / frameBytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
  } else {
    for (let i = 0; i < n; i++) out[i] = (view.getInt16(4 * i, true) + view.getInt16(4 * i + 2, true)) >> 1;
  }
  return out;
}

/**
 * Parses a complete WAV file of 16-bit PCM, mono or stereo (mixed down to mono). Walks chunks (skips LIST etc.);
 * a `data` size of 0, 0xFFFFFFFF or larger than the file (espeak-ng's `--stdout` streaming header) means
 * "the rest of the file".
 * @throws Error on non-RIFF/WAVE input, a missing `fmt `/`data` chunk, or a format other than 16-bit PCM.
 */
export function parseWav(buf: Buffer): Pcm {
  const h = readWavHeader(buf);
  if (!h) throw new Error('WAV: truncated file (no complete "data" chunk header)');
  const end = h.dataBytes === null ? buf.length : h.dataOffset + h.dataBytes;
  const samples = pcm16leToMono(buf.subarray(h.dataOffset, end), h.channels);
  return { samples, sampleRate: h.sampleRate };
}

/**
 * The canonical 44-byte header of a 16-bit integer PCM WAV file (format tag 1): `channels` interleaved, `sampleRate`
 * Hz, followed by `dataBytes` bytes of samples. Streaming writers write it with `dataBytes` 0 first and again at the
 * end (the RIFF sizes are 32-bit: at most 4 GiB − 45 bytes of data).
 * @throws Error when the sample rate is not a positive integer, channels not 1..8, or dataBytes out of range.
 */
export function wavHeader(o: { channels: number; sampleRate: number; dataBytes: number }): Buffer {
  if (!Number.isInteger(o.sampleRate) || o.sampleRate <= 0) throw new Error(`WAV: invalid sample rate ${o.sampleRate}`);
  if (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > 8) throw new Error(`WAV: invalid channel count ${o.channels}`);
  if (!Number.isInteger(o.dataBytes) || o.dataBytes < 0 || o.dataBytes > 0xffffffff - 36) throw new Error(`WAV: data size ${o.dataBytes} out of range`);
  const b = Buffer.alloc(44);
  const blockAlign = 2 * o.channels;
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + o.dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  b.writeUInt16LE(o.channels, 22);
  b.writeUInt32LE(o.sampleRate, 24);
  b.writeUInt32LE(o.sampleRate * blockAlign, 28);
  b.writeUInt16LE(blockAlign, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(o.dataBytes, 40);
  return b;
}

/**
 * Encodes mono PCM16 as a canonical 44-byte-header WAV file (format 1, 16 bits, 1 channel).
 * @throws Error when the sample rate is not a positive integer.
 */
export function encodeWav(pcm: Pcm): Buffer {
  const dataBytes = pcm.samples.length * 2;
  const b = Buffer.alloc(44 + dataBytes);
  wavHeader({ channels: 1, sampleRate: pcm.sampleRate, dataBytes }).copy(b, 0);
  for (let i = 0; i < pcm.samples.length; i++) b.writeInt16LE(pcm.samples[i], 44 + 2 * i);
  return b;
}
