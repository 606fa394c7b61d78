import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseWav } from '../src/audio/wav';
import { mulaw8kToPcm, pcmToMulaw8k } from '../src/audio/frames';
import { FIXTURE_AUDIO_DIR } from '../src/eval/references';
import { SileroVad } from '../src/engine/vad';

/** The shipped real recordings (LibriVox, copies of /work/shared/audio) the simulated callers speak. */
export const RECORDINGS = ['librivox-0870.wav', 'librivox-0880.wav', 'librivox-0890.wav'] as const;

/** A caller recording as a phone line carries it, trimmed to its speech. */
export interface CallerRecording {
  file: string;
  /** 8 kHz mu-law from the first to the last Silero speech window (1 byte = 0.125 ms). */
  mulaw: Uint8Array;
  /** Length of `mulaw` (ms). */
  ms: number;
  /** Silence cut from the start / the end of the file (ms). */
  trimmedLeadMs: number;
  trimmedTailMs: number;
}

/** Speech probability at or above which a Silero window counts as speech (the server's default VAD_POSITIVE_THRESHOLD). */
const SPEECH_THRESHOLD = 0.5;

/**
 * Loads the recordings, converts them to 8 kHz mu-law (as Twilio delivers a caller) and trims the leading and
 * trailing silence to the first / last Silero VAD speech window (32 ms resolution), run offline on the same mu-law
 * audio the server will hear. So "first frame sent" is the caller's speech onset and "last frame sent" the end of
 * their speech, which is what the latency figures are measured from.
 * @throws Error when a recording has no speech.
 */
export async function loadCallerRecordings(dir = FIXTURE_AUDIO_DIR): Promise<CallerRecording[]> {
  const vad = await SileroVad.load();
  const out: CallerRecording[] = [];
  for (const file of RECORDINGS) {
    const mulaw = pcmToMulaw8k(parseWav(readFileSync(path.join(dir, file))));
    const stream = vad.createStream();
    const frames = [...(await stream.push(mulaw8kToPcm(mulaw).samples)), ...(await stream.flush())];
    stream.close();
    const speech = frames.filter((f) => f.probability >= SPEECH_THRESHOLD);
    if (!speech.length) throw new Error(`${file}: no speech found`);
    const totalMs = mulaw.length / 8;
    const startMs = speech[0].startMs;
    const endMs = Math.min(totalMs, speech[speech.length - 1].endMs);
    const trimmed = mulaw.slice(Math.round(startMs * 8), Math.round(endMs * 8));
    out.push({ file, mulaw: trimmed, ms: trimmed.length / 8, trimmedLeadMs: startMs, trimmedTailMs: Math.round(totalMs - endMs) });
  }
  return out;
}
