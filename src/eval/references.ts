import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Folder of the shipped real recordings (LibriVox, 16 kHz WAV) and their `transcripts.tsv`. */
export const FIXTURE_AUDIO_DIR = path.resolve(__dirname, '../../test/fixtures/audio');

/**
 * The reference transcript of a shipped recording, from `transcripts.tsv` (lines `file<TAB>lower-case words`).
 * @param file the WAV file name, e.g. `librivox-0880.wav`.
 * @throws Error when the file has no reference.
 */
export function referenceTranscript(file: string, dir = FIXTURE_AUDIO_DIR): string {
  const row = readFileSync(path.join(dir, 'transcripts.tsv'), 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .find(([name]) => name === file);
  if (!row || row[1] === undefined) throw new Error(`no reference transcript for ${file}`);
  return row[1].trim();
}
