import { mulawDecode, mulawEncode } from './mulaw';
import { resample } from './resample';
import type { Pcm } from './types';

/** Telephone audio rate (Twilio Media Streams): 8000 Hz mu-law, 1 byte per sample. */
export const PHONE_RATE = 8000;
/** 20 ms of 8 kHz mu-law = 160 bytes (the frame size commonly seen on Twilio Media Streams). */
export const FRAME_BYTES_20MS = 160;

/**
 * Splits mu-law bytes into frames of `frameBytes` (default 160 = 20 ms at 8 kHz); the last frame may be shorter.
 * Frames are views (subarrays) of `bytes`, not copies.
 * @throws Error when `frameBytes` is not a positive integer.
 */
export function frameMulaw(bytes: Uint8Array, frameBytes = FRAME_BYTES_20MS): Uint8Array[] {
  if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new Error(`frameBytes must be a positive integer, got ${frameBytes}`);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += frameBytes) frames.push(bytes.subarray(i, Math.min(i + frameBytes, bytes.length)));
  return frames;
}

/** Resamples PCM (any rate) to 8 kHz (low-passed, see resample.ts) and mu-law encodes it: 1 byte per 125 µs. */
export function pcmToMulaw8k(pcm: Pcm): Uint8Array {
  return mulawEncode(resample(pcm, PHONE_RATE).samples);
}

/** Decodes 8 kHz mu-law bytes to PCM16 at 8000 Hz. */
export function mulaw8kToPcm(bytes: Uint8Array): Pcm {
  return { samples: mulawDecode(bytes), sampleRate: PHONE_RATE };
}
