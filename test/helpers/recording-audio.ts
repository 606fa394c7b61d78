import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { frameMulaw, pcmToMulaw8k } from '../../src/audio/frames';
import { mulawDecode } from '../../src/audio/mulaw';
import { parseWav, readWavHeader } from '../../src/audio/wav';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';

/** A shipped LibriVox recording (16 kHz WAV) as a phone line carries it: 8 kHz mu-law bytes. */
export function phoneMulaw(name: 'librivox-0870' | 'librivox-0880' | 'librivox-0890'): Uint8Array {
  return pcmToMulaw8k(parseWav(readFileSync(join(FIXTURE_AUDIO_DIR, `${name}.wav`))));
}

/** `bytes` cut into 20 ms (160-byte) frames, as Twilio sends them. */
export const frames20ms = (bytes: Uint8Array): Uint8Array[] => frameMulaw(bytes);

/** mu-law bytes decoded to PCM16, for comparing with a recording's channel. */
export const decoded = (bytes: Uint8Array): Int16Array => mulawDecode(bytes);

/**
 * A two-channel 16-bit WAV file split into its channels, with its header's rate and channel count; throws when the
 * header's data size is not the file's.
 */
export function readStereoWav(buf: Buffer): { sampleRate: number; channels: number; left: Int16Array; right: Int16Array } {
  const h = readWavHeader(buf);
  if (!h || h.dataBytes === null || h.dataOffset + h.dataBytes !== buf.length) throw new Error('not a complete WAV file');
  const n = h.dataBytes / (2 * h.channels);
  const left = new Int16Array(n);
  const right = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    left[i] = buf.readInt16LE(h.dataOffset + 4 * i);
    right[i] = buf.readInt16LE(h.dataOffset + 4 * i + 2);
  }
  return { sampleRate: h.sampleRate, channels: h.channels, left, right };
}

/** Whether two sample arrays are identical (a byte comparison: fast on minutes of audio, unlike a deep equal). */
export function sameSamples(a: Int16Array, b: Int16Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A clock the test moves by hand (ms). */
export function manualClock(start = 1_000): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
