import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { resample } from '../../src/audio/resample';
import { parseWav, wavHeader } from '../../src/audio/wav';
import { loadConfig } from '../../src/config';
import { RecordingsRepo } from '../../src/db/recordings';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { openRecordingStorage } from '../../src/recordings/open-storage';
import { RECORDING_CHANNELS, RECORDING_RATE } from '../../src/recordings/recording-writer';
import { recordingKey } from '../../src/recordings/storage';
import { testDatabaseUrl } from './db';

/** A shipped LibriVox recording (16 kHz) at the recording's 8 kHz. */
const speech8k = (name: string): Int16Array => resample(parseWav(readFileSync(join(FIXTURE_AUDIO_DIR, `${name}.wav`))), RECORDING_RATE).samples;

/**
 * A two-channel 8 kHz 16-bit WAV as the engine's RecordingWriter writes it: the caller (left) speaks LibriVox 0880
 * from 0 s, the agent (right) LibriVox 0890 from `agentStartS` (default 1 s; silence elsewhere). Returns the file and
 * its duration (ms).
 */
export function stereoSpeechWav(agentStartS = 1): { wav: Buffer; durationMs: number } {
  const caller = speech8k('librivox-0880');
  const agent = speech8k('librivox-0890');
  const offset = agentStartS * RECORDING_RATE;
  const n = Math.max(caller.length, offset + agent.length);
  const dataBytes = n * RECORDING_CHANNELS * 2;
  const wav = Buffer.alloc(44 + dataBytes);
  wavHeader({ channels: RECORDING_CHANNELS, sampleRate: RECORDING_RATE, dataBytes }).copy(wav, 0);
  for (let i = 0; i < n; i++) {
    wav.writeInt16LE(caller[i] ?? 0, 44 + 4 * i);
    wav.writeInt16LE(i >= offset ? agent[i - offset] : 0, 44 + 4 * i + 2);
  }
  return { wav, durationMs: Math.round((n / RECORDING_RATE) * 1000) };
}

/**
 * Stores {@link stereoSpeechWav} as `callSid`'s recording the way the engine does: the file into the storage the test
 * server's config opens (RECORDINGS_DIR; under NODE_ENV=test a directory in the OS temp dir) under the engine's key,
 * then its `recordings` row. Returns the file's size (bytes).
 */
export async function storeSpeechRecording(db: Knex, callSid: string): Promise<number> {
  const storage = openRecordingStorage(loadConfig({ NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent' }).recordings);
  const { wav, durationMs } = stereoSpeechWav();
  await mkdir(storage.partialDir, { recursive: true });
  const part = join(storage.partialDir, `${callSid}-${randomBytes(4).toString('hex')}.wav.part`);
  await writeFile(part, wav);
  const key = recordingKey(callSid, new Date());
  await storage.save(part, key, wav.length);
  await new RecordingsRepo(db).add({ callSid, storage: storage.kind, key, durationMs, bytes: wav.length, channels: RECORDING_CHANNELS });
  return wav.length;
}
