import { readFileSync } from 'fs';
import { join } from 'path';
import { mulaw8kToPcm, pcmToMulaw8k } from '../../../src/audio/frames';
import type { Pcm } from '../../../src/audio/types';
import { parseWav } from '../../../src/audio/wav';
import { FIXTURE_AUDIO_DIR, referenceTranscript } from '../../../src/eval/references';

/** The real LibriVox recordings (16 kHz WAV) with their reference transcripts. */
export const RECORDINGS = ['librivox-0870', 'librivox-0880', 'librivox-0890'] as const;
const DIR = FIXTURE_AUDIO_DIR;

/** Reference transcript of a recording named without its extension. */
export function reference(name: string): string {
  return referenceTranscript(`${name}.wav`);
}

/** The recording as a phone call delivers it: resampled to 8 kHz, mu-law encoded, decoded back to PCM16. */
export function phoneAudio(name: string): Pcm {
  return mulaw8kToPcm(pcmToMulaw8k(parseWav(readFileSync(join(DIR, `${name}.wav`)))));
}
