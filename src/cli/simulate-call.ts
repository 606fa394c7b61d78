import { loadConfig } from '../config';
import { runMain } from '../process-lifecycle';
import { parseArgs } from './args';
import { simulateCall } from './twilio-simulator';
import { formatCallReport, waitForCall, wavFileToMulaw8k } from './call-report';

/**
 * `npm run call -- --audio file.wav [--to +1…] [--from +1…] [--server http://127.0.0.1:PORT]`
 * Places a simulated Twilio inbound call against a running server (`npm start` / `npm run dev`) and prints what happened.
 * Signs with TWILIO_AUTH_TOKEN over PUBLIC_BASE_URL exactly as Twilio would.
 */
async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { audio: 'string', to: 'string', from: 'string', server: 'string', wait: 'string' });
  if (typeof args.audio !== 'string') throw new Error('usage: npm run call -- --audio file.wav [--to +18005550199] [--server http://127.0.0.1:3000]');
  const config = loadConfig();
  const serverUrl = (args.server as string | undefined) ?? `http://127.0.0.1:${config.port}`;
  const sim = await simulateCall({
    serverUrl,
    publicBaseUrl: config.publicBaseUrl,
    authToken: config.twilio.authToken,
    accountSid: config.twilio.accountSid,
    callerMulaw: wavFileToMulaw8k(args.audio),
    to: args.to as string | undefined,
    from: args.from as string | undefined,
  });
  const detail = await waitForCall(serverUrl, config.apiKey, sim.callSid, (d) => d.csat !== null && d.crmSync.status !== 'pending', Number(args.wait ?? 15_000));
  for (const line of formatCallReport(sim, detail)) console.log(line);
  if (!detail || detail.turns.length === 0) process.exitCode = 1;
}

runMain(main);
