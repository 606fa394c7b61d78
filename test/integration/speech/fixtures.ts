import { readFileSync } from 'fs';
import { join } from 'path';
import { mulaw8kToPcm, pcmToMulaw8k } from '../../../src/audio/frames';
import type { Pcm } from '../../../src/audio/types';
import { parseWav } from '../../../src/audio/wav';

/** The real LibriVox recordings (16 kHz WAV) with their reference transcripts. */
export const RECORDINGS = ['librivox-0870', 'librivox-0880', 'librivox-0890'] as const;
const DIR = join(__dirname, '../../fixtures/audio');

export function reference(name: string): string {
  const row = readFileSync(join(DIR, 'transcripts.tsv'), 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .find(([file]) => file === `${name}.wav`);
  if (!row) throw new Error(`no reference transcript for ${name}`);
  return row[1].trim();
}

/** The recording as a phone call delivers it: resampled to 8 kHz, mu-law encoded, decoded back to PCM16. */
export function phoneAudio(name: string): Pcm {
  return mulaw8kToPcm(pcmToMulaw8k(parseWav(readFileSync(join(DIR, `${name}.wav`)))));
}
