import { CrmError, type CrmCallActivity } from '../../../src/crm/connector';
import { createConnector } from '../../../src/crm/connectors';
import { HUBSPOT_OUTCOMES } from '../../../src/crm/connectors/hubspot';
import { startHubspotDouble, type HubspotDouble } from '../../doubles/hubspot-double';

const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';

const activity = (over: Partial<CrmCallActivity> = {}): CrmCallActivity => ({
  callSid: 'CAhubspot1',
  direction: 'inbound',
  customerNumber: '+14155550123',
  from: '+14155550123',
  to: '+14155550199',
  startedAt: '2026-12-03T10:00:00.000Z',
  endedAt: '2026-12-03T10:02:05.000Z',
  durationMs: 125_000,
  status: 'completed',
  disposition: 'voicemail',
  summary: 'The caller asked about Saturday opening hours.',
  callUrl: 'https://voice.example.com/calls/CAhubspot1',
  recordingUrl: 'https://voice.example.com/api/calls/CAhubspot1/recording',
  fields: { firstName: 'Ada', lastName: 'Lovelace' },
  ...over,
});

describe('HubSpot connector through @hubspot/api-client against the HubSpot double', () => {
  let hs: HubspotDouble;
  const connector = (token = TOKEN) => createConnector({ kind: 'hubspot', settings: { basePath: hs.base } }, { accessToken: token }, { timeoutMs: 2_000 });

  beforeEach(async () => {
    hs = await startHubspotDouble({ token: TOKEN });
  });
  afterEach(async () => {
    await hs.close();
  });

  it('creates the contact when missing and logs a call engagement associated to it, with the outcome GUID', async () => {
    const r = await connector().logCall(activity());
    expect(hs.requests.map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual([
      'POST /crm/v3/objects/contacts/search 200',
      'POST /crm/v3/objects/contacts 201',
      'POST /crm/v3/objects/calls 201',
    ]);
    for (const q of hs.requests) expect(q.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(hs.requests[0].body.filterGroups).toEqual([
      { filters: [{ propertyName: 'phone', operator: 'EQ', value: '+14155550123' }] },
      { filters: [{ propertyName: 'mobilephone', operator: 'EQ', value: '+14155550123' }] },
    ]);
    expect(hs.requests[1].body.properties).toEqual({ phone: '+14155550123', firstname: 'Ada', lastname: 'Lovelace' });
    const call = hs.requests[2].body;
    expect(call.properties).toEqual({
      hs_timestamp: '2026-12-03T10:00:00.000Z',
      hs_call_title: 'Inbound AI agent call with +14155550123',
      hs_call_body: 'The caller asked about Saturday opening hours.\n\nCall details: https://voice.example.com/calls/CAhubspot1\n\nRecording: https://voice.example.com/api/calls/CAhubspot1/recording',
      hs_call_direction: 'INBOUND',
      hs_call_duration: '125000',
      hs_call_from_number: '+14155550123',
      hs_call_to_number: '+14155550199',
      hs_call_status: 'COMPLETED',
      hs_call_disposition: HUBSPOT_OUTCOMES.leftVoicemail,
      hs_call_recording_url: 'https://voice.example.com/api/calls/CAhubspot1/recording',
    });
    expect(call.associations).toEqual([{ to: { id: r.contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 194 }] }]);
    expect(r.activityId).toBe([...hs.calls.keys()][0]);
  });

  it('reuses an existing contact and maps outbound / busy / no-answer', async () => {
    const c = connector();
    const first = await c.logCall(activity({ disposition: 'resolved' }));
    const second = await c.logCall(activity({ direction: 'outbound', status: 'busy', disposition: 'busy', durationMs: 0, recordingUrl: null }));
    const third = await c.logCall(activity({ status: 'no-answer', disposition: 'no_answer' }));
    expect(second.contactId).toBe(first.contactId);
    expect(third.contactId).toBe(first.contactId);
    expect(hs.contacts.size).toBe(1);
    const bodies = hs.requests.filter((q) => q.path === '/crm/v3/objects/calls').map((q) => q.body.properties);
    expect(bodies.map((b) => [b.hs_call_direction, b.hs_call_status, b.hs_call_disposition])).toEqual([
      ['INBOUND', 'COMPLETED', HUBSPOT_OUTCOMES.connected],
      ['OUTBOUND', 'BUSY', HUBSPOT_OUTCOMES.busy],
      ['INBOUND', 'NO_ANSWER', HUBSPOT_OUTCOMES.noAnswer],
    ]);
    expect(bodies[1].hs_call_recording_url).toBeUndefined();
  });

  it('marks the contact do-not-call (PATCH) and is a no-op without a contact', async () => {
    const c = connector();
    await c.markDoNotCall('+14155550777');
    expect(hs.requests.map((q) => q.method)).toEqual(['POST']);
    const { contactId } = await c.logCall(activity({ customerNumber: '+14155550777', from: '+14155550777' }));
    await c.markDoNotCall('+14155550777');
    const patch = hs.requests.at(-1)!;
    expect(`${patch.method} ${patch.path}`).toBe(`PATCH /crm/v3/objects/contacts/${contactId}`);
    expect(patch.body).toEqual({ properties: { do_not_call: 'true' } });
    expect(hs.contacts.get(contactId!)!.properties.do_not_call).toBe('true');
  });

  it('explains a missing do-not-call property', async () => {
    hs.contactProperties.delete('do_not_call');
    const c = connector();
    await c.logCall(activity());
    const err = await c.markDoNotCall('+14155550123').catch((e) => e);
    expect(err).toBeInstanceOf(CrmError);
    expect(err).toMatchObject({ kind: 'invalid', status: 400, retryable: false });
    expect(err.message).toMatch(/create a single checkbox contact property/);
  });

  it('401: auth CrmError (not retryable) and a test-connection message an admin understands', async () => {
    const bad = connector('pat-na1-99999999-2222-3333-4444-555555555555');
    const err = await bad.logCall(activity()).catch((e) => e);
    expect(err).toBeInstanceOf(CrmError);
    expect(err).toMatchObject({ kind: 'auth', status: 401, retryable: false });
    expect(err.message).not.toContain('99999999');
    const check = await bad.testConnection();
    expect(check).toEqual({ ok: false, message: 'HubSpot rejected the private app token (401): check that the token is current and the app has the crm.objects.contacts.read scope.' });
    expect(hs.requests.at(-1)!.path).toBe('/crm/v3/objects/contacts?limit=1&properties=phone');
    expect(await connector().testConnection()).toEqual({ ok: true, message: 'Connected to HubSpot: the private app token can read contacts.' });
  });

  it('429 with Retry-After: rate_limited with retryAfterMs', async () => {
    hs.fail(429, { retryAfterS: 7 });
    const err = await connector().logCall(activity()).catch((e) => e);
    expect(err).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: 7_000, retryable: true });
    expect(hs.requests).toHaveLength(1); // the SDK did not retry on its own
  });

  it('5xx: unavailable (retryable), no SDK retry; a later attempt succeeds', async () => {
    hs.fail(502, { path: '/crm/v3/objects/calls' });
    const c = connector();
    const err = await c.logCall(activity()).catch((e) => e);
    expect(err).toMatchObject({ kind: 'unavailable', status: 502, retryable: true });
    expect(hs.calls.size).toBe(0);
    await c.logCall(activity());
    expect(hs.calls.size).toBe(1);
  });

  it('a hung HubSpot: unavailable after the timeout, and the caller can abort', async () => {
    hs.hangNext();
    const c = createConnector({ kind: 'hubspot', settings: { basePath: hs.base } }, { accessToken: TOKEN }, { timeoutMs: 200 });
    const err = await c.logCall(activity()).catch((e) => e);
    expect(err).toMatchObject({ kind: 'unavailable', retryable: true, message: 'HubSpot did not answer within 200 ms while searching contacts by phone.' });
    hs.hangNext();
    const ac = new AbortController();
    const pending = connector().testConnection(ac.signal);
    setTimeout(() => ac.abort(), 50);
    expect(await pending).toEqual({ ok: false, message: 'HubSpot request aborted while reading contacts.' });
    expect(hs.requests.map((q) => q.status)).toEqual([0, 0]);
    await c.logCall(activity()); // the connector still works after its agent dropped the hung socket
    expect(hs.calls.size).toBe(1);
  });

  it('unreachable host: unavailable, and test connection says so', async () => {
    const base = hs.base;
    await hs.close();
    const c = createConnector({ kind: 'hubspot', settings: { basePath: base } }, { accessToken: TOKEN });
    const err = await c.logCall(activity()).catch((e) => e);
    expect(err).toMatchObject({ kind: 'unavailable', status: null, retryable: true });
    expect((await c.testConnection()).message).toMatch(/^HubSpot is unreachable at 127\.0\.0\.1:\d+ while reading contacts \(ECONNREFUSED\): check the network or the base URL\.$/);
    hs = await startHubspotDouble({ token: TOKEN }); // for afterEach
  });

  it('rejects bad credentials of either kind', () => {
    expect(() => createConnector({ kind: 'hubspot', settings: {} }, { token: 'x' })).toThrow(CrmError);
    expect(() => createConnector({ kind: 'salesforce', settings: {} }, {})).toThrow(/stored Salesforce credentials are not an instance URL and access token/);
  });
});
