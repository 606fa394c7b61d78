import pino from 'pino';
import { loadConfig } from '../../../src/config';
import { buildAppContext, type AppContext } from '../../../src/context';
import { startTwilioEmulator } from '../../../src/cli/twilio-emulator';
import { closeInProcessServer } from '../../helpers/in-process-server';
import { testDatabaseUrl } from '../../helpers/db';

/**
 * TWILIO_API_BASE_URL reaches the server's own REST calls too (hang-ups and transfers of live calls), not only the
 * dialer's calls.create: with the demo's Twilio emulator as the base URL, a hang-up lands on the emulator.
 */
let ctx: AppContext | null = null;
afterAll(async () => {
  await closeInProcessServer({ ctx });
});

it('the call control of the app context hangs up through TWILIO_API_BASE_URL', async () => {
  const emulator = await startTwilioEmulator({ serverUrl: 'http://127.0.0.1:9', publicBaseUrl: 'https://voice.example.test', authToken: 't', callee: () => ({ kind: 'busy' }) });
  try {
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', TWILIO_API_BASE_URL: emulator.url, STT_PROVIDER: 'fake', LLM_PROVIDER: 'fake', TTS_PROVIDER: 'fake', EMBEDDINGS_PROVIDER: 'local' });
    ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: `emu-${process.pid}-${Date.now()}` });
    const sid = `CA${'ab'.repeat(16)}`;
    await ctx.callControl.hangup(sid);
    expect(emulator.updates).toEqual([{ sid, status: 'completed' }]);
  } finally {
    await emulator.close();
  }
});
