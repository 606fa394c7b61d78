import pino, { type Logger } from 'pino';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../src/config';
import { migrateAndSeed } from '../../src/db/setup';
import { buildAppContext, type AppContext, type ContextOverrides } from '../../src/context';
import { FakeStt } from '../../src/providers/stt/fake';
import { FakeLlm } from '../../src/providers/llm/fake';
import { FakeTts } from '../../src/providers/tts/fake';
import { TwilioRestDouble } from '../doubles/twilio-rest-double';
import { setupTestDb, testDatabaseUrl } from './db';

/** What {@link scriptedStack} builds: the shared pieces of the real-time e2e suites. */
export interface ScriptedStack {
  db: Knex;
  config: Readonly<Config>;
  ctx: AppContext;
  /** The Twilio REST double behind the real twilio client (transfers, hangups). */
  rest: TwilioRestDouble;
  /** What the fake STT hears next, in order ('Sorry?' when empty). Push before a caller turn. */
  transcripts: string[];
  /** What the fake LLM answers next, in order ('Okay.' when empty). */
  replies: string[];
}

/** Extras of {@link scriptedStack}: a logger for the context (default silent), and the VAD of each call. */
export interface ScriptedStackOptions {
  logger?: Logger;
  createVadStream?: ContextOverrides['createVadStream'];
}

/**
 * A migrated and seeded test database, a config from `env` on top of the test defaults (NODE_ENV test, PORT 0, the
 * test DATABASE_URL, silent logs), and an AppContext with scripted fake STT/LLM, a fake TTS (5 ms first byte) and
 * the twilio REST double; the real Silero VAD (or `o.createVadStream`) and everything else of the app. `queuePrefix` keeps BullMQ keys apart.
 */
export async function scriptedStack(env: Record<string, string>, queuePrefix: string, o: ScriptedStackOptions = {}): Promise<ScriptedStack> {
  const db = await setupTestDb();
  await migrateAndSeed(db);
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', ...env });
  const transcripts: string[] = [];
  const replies: string[] = [];
  const rest = new TwilioRestDouble();
  const providers = {
    stt: new FakeStt({ respond: () => transcripts.shift() ?? 'Sorry?' }),
    llm: new FakeLlm({ respond: () => replies.shift() ?? 'Okay.' }),
    tts: new FakeTts({ firstByteMs: 5 }),
  };
  const ctx = await buildAppContext(config, o.logger ?? pino({ level: 'silent' }), {
    queuePrefix: `${queuePrefix}-${process.pid}-${Date.now()}`,
    providers,
    twilioHttpClient: rest.client,
    createVadStream: o.createVadStream,
  });
  return { db, config, ctx, rest, transcripts, replies };
}
