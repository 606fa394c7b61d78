import { DEMO_AGENT } from '../db/seed';

/** The demo campaign's contacts and what each callee does (the emulator's script). */
export const DEMO_CAMPAIGN_CONTACTS = [
  { phone: '+14155550131', name: 'Ana (answers)', kind: 'human', expect: { state: 'done', lastOutcome: 'completed' } },
  { phone: '+14155550132', name: 'Ben (voicemail)', kind: 'voicemail', expect: { state: 'done', lastOutcome: 'voicemail' } },
  { phone: '+14155550133', name: 'Cleo (busy)', kind: 'busy', expect: { state: 'failed', lastOutcome: 'busy' } },
] as const;

interface ContactRow {
  phone: string;
  name: string | null;
  state: string;
  attempts: number;
  lastOutcome: string | null;
}

/**
 * Runs the demo's outbound campaign through the real API of the server at `serverUrl` (`apiKey`): creates a campaign
 * for the seeded agent (every day, all day in UTC, one attempt, CPS 1, max 2 at once), adds
 * {@link DEMO_CAMPAIGN_CONTACTS}, starts it and waits (≤ `timeoutMs`) until no contact is pending or live — the
 * worker's dispatcher dials through TWILIO_API_BASE_URL (the emulator). @returns printable lines and the problems
 * found (a contact not in its expected state / outcome). @throws Error when an API call fails.
 */
export async function runDemoCampaign(serverUrl: string, apiKey: string, timeoutMs = 120_000): Promise<{ lines: string[]; problems: string[] }> {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(serverUrl + path, { method, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return res.json() as Promise<any>;
  };
  const campaign = await call('POST', '/api/campaigns', {
    name: `demo ${new Date().toISOString()}`,
    agentId: DEMO_AGENT.id,
    callerIds: ['+14155550100'],
    defaultRegion: 'US',
    window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' },
    maxConcurrent: 2,
    cps: 1,
    retry: { maxAttempts: 1, delaysSeconds: { busy: [60], noAnswer: [60], failed: [60], voicemail: [60] } },
    voicemailMessage: 'Hi {{first_name}}, this is the demo calling. Goodbye.',
  });
  await call('POST', `/api/campaigns/${campaign.id}/contacts`, { contacts: DEMO_CAMPAIGN_CONTACTS.map((c) => ({ phone: c.phone, name: c.name, timezone: 'UTC', variables: { first_name: c.name.split(' ')[0] } })) });
  await call('POST', `/api/campaigns/${campaign.id}/start`);
  let progress: any;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
    progress = await call('GET', `/api/campaigns/${campaign.id}`);
    if (progress.counts.pending + progress.counts.dialing + progress.counts['in-progress'] === 0) break;
  }
  const { contacts } = (await call('GET', `/api/campaigns/${campaign.id}/contacts`)) as { contacts: ContactRow[] };
  const lines = [`campaign ${campaign.id}: ${progress.state}; funnel ${JSON.stringify(progress.funnel)}`];
  const problems: string[] = [];
  for (const want of DEMO_CAMPAIGN_CONTACTS) {
    const got = contacts.find((c) => c.phone === want.phone);
    lines.push(`${want.name.padEnd(16)} ${want.phone}: ${got ? `${got.state}, ${got.attempts} attempt(s), outcome ${got.lastOutcome}` : 'missing'}`);
    if (got?.state !== want.expect.state || got?.lastOutcome !== want.expect.lastOutcome) problems.push(`campaign contact ${want.name}: expected ${want.expect.state}/${want.expect.lastOutcome}`);
  }
  return { lines, problems };
}
