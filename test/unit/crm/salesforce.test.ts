import { CrmError, type CrmCallActivity } from '../../../src/crm/connector';
import {
  createSalesforceConnector,
  escapeSosl,
  nationalFormat,
  salesforceCredentialsSchema,
} from '../../../src/crm/connectors/salesforce';
import { startSalesforceDouble, type SalesforceDouble } from '../../doubles/salesforce-double';

const TOKEN = '00Dxx0000001gPL!AQ4AQFakeSessionToken';

function activity(over: Partial<CrmCallActivity> = {}): CrmCallActivity {
  return {
    callSid: 'CA0123456789abcdef0123456789abcdef',
    direction: 'outbound',
    customerNumber: '+14155550123',
    from: '+14155550999',
    to: '+14155550123',
    startedAt: '2026-12-03T10:15:00.000Z',
    endedAt: '2026-12-03T10:17:05.000Z',
    durationMs: 124_600,
    status: 'completed',
    disposition: 'callback_booked',
    summary: 'Caller asked for a callback tomorrow morning.',
    callUrl: 'https://app.example.com/calls/CA0123456789abcdef0123456789abcdef',
    recordingUrl: 'https://app.example.com/api/calls/CA0123/recording',
    fields: {},
    ...over,
  };
}

describe('Salesforce connector through jsforce against the REST double', () => {
  let sf: SalesforceDouble;
  beforeEach(async () => {
    sf = await startSalesforceDouble({ accessToken: TOKEN });
  });
  afterEach(async () => {
    await sf.close();
  });
  const connector = (token = TOKEN) =>
    createSalesforceConnector({ instanceUrl: sf.instanceUrl, accessToken: token }, { apiVersion: '62.0' });

  it('validates credentials with the zod schema', () => {
    expect(salesforceCredentialsSchema.safeParse({ instanceUrl: 'https://x.my.salesforce.com', accessToken: 't' }).success).toBe(true);
    expect(salesforceCredentialsSchema.safeParse({ instanceUrl: 'not a url', accessToken: 't' }).success).toBe(false);
    expect(salesforceCredentialsSchema.safeParse({ instanceUrl: 'https://x.my.salesforce.com' }).success).toBe(false);
  });

  it('escapes SOSL reserved characters and derives the national format', () => {
    expect(escapeSosl('+1 (415) 555-0123')).toBe('\\+1 \\(415\\) 555\\-0123');
    expect(escapeSosl('a&b|c!{}[]^~*:\\"\'?')).toBe('a\\&b\\|c\\!\\{\\}\\[\\]\\^\\~\\*\\:\\\\\\"\\\'\\?');
    expect(nationalFormat('+14155550123')).toBe('4155550123');
    expect(nationalFormat('+442071838750')).toBe('442071838750');
  });

  it('logs a Task on the Contact (preferred over a Lead) with the wire fields', async () => {
    const leadId = sf.addRecord('Lead', { Phone: '+14155550123' });
    const contactId = sf.addRecord('Contact', { Phone: '+14155550123' });
    const result = await connector().logCall(activity());
    expect(result.contactId).toBe(contactId);
    expect(result.contactId).not.toBe(leadId);

    const paths = sf.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual([
      'GET /services/data/v62.0/query',
      'GET /services/data/v62.0/search',
      'POST /services/data/v62.0/sobjects/Task/',
    ]);
    for (const r of sf.requests) expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sf.requests[0].query.q).toBe(
      "SELECT Id, WhoId FROM Task WHERE CallObject = 'CA0123456789abcdef0123456789abcdef' LIMIT 1",
    );
    expect(sf.requests[1].query.q).toBe('FIND {\\+14155550123} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)');
    const task = sf.requests[2].body;
    expect(sf.requests[2].headers['content-type']).toMatch(/^application\/json/);
    expect(task).toEqual({
      Subject: 'Call: Callback booked',
      CallType: 'Outbound',
      CallDurationInSeconds: 125,
      CallDisposition: 'Callback booked',
      CallObject: 'CA0123456789abcdef0123456789abcdef',
      Description:
        'Caller asked for a callback tomorrow morning.\n\nCall: https://app.example.com/calls/CA0123456789abcdef0123456789abcdef' +
        '\n\nRecording: https://app.example.com/api/calls/CA0123/recording',
      WhoId: contactId,
      Status: 'Completed',
      ActivityDate: '2026-12-03',
      TaskSubtype: 'Call',
    });
    expect(result.activityId).toBe(sf.records('Task')[0].Id);
  });

  it('falls back to a Lead, then to the national format, then to a Task without WhoId', async () => {
    const leadId = sf.addRecord('Lead', { MobilePhone: '+14155550123' });
    expect((await connector().logCall(activity({ callSid: 'CA1' }))).contactId).toBe(leadId);

    const natId = sf.addRecord('Contact', { Phone: '4155550777' });
    const nat = await connector().logCall(activity({ callSid: 'CA2', customerNumber: '+14155550777', direction: 'inbound' }));
    expect(nat.contactId).toBe(natId);
    const searches = sf.requests.filter((r) => r.path.endsWith('/search')).map((r) => r.query.q);
    expect(searches.slice(-2)).toEqual([
      'FIND {\\+14155550777} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)',
      'FIND {4155550777} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)',
    ]);
    expect(sf.records('Task')[1].CallType).toBe('Inbound');

    const none = await connector().logCall(activity({ callSid: 'CA3', customerNumber: '+15005550000', recordingUrl: null }));
    expect(none.contactId).toBeNull();
    const t3 = sf.records('Task')[2];
    expect(t3).not.toHaveProperty('WhoId');
    expect(t3.Description).not.toContain('Recording:');

    const web = await connector().logCall(activity({ callSid: 'CA4', customerNumber: null, direction: 'web' }));
    expect(web.contactId).toBeNull();
    expect(sf.records('Task')[3].CallType).toBe('Internal');
  });

  it('a retried logCall finds the Task by CallObject and creates only one', async () => {
    const contactId = sf.addRecord('Contact', { Phone: '+14155550123' });
    const first = await connector().logCall(activity());
    const again = await connector().logCall(activity());
    expect(again).toEqual(first);
    expect(again.contactId).toBe(contactId);
    expect(sf.records('Task')).toHaveLength(1);
    expect(sf.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('markDoNotCall sets DoNotCall on every matching Contact and Lead', async () => {
    const c = sf.addRecord('Contact', { Phone: '+14155550123' });
    const l = sf.addRecord('Lead', { Phone: '+14155550123' });
    const other = sf.addRecord('Contact', { Phone: '+14155550999' });
    await connector().markDoNotCall('+14155550123');
    const byId = (id: string) => [...sf.records('Contact'), ...sf.records('Lead')].find((r) => r.Id === id);
    expect(byId(c)?.DoNotCall).toBe(true);
    expect(byId(l)?.DoNotCall).toBe(true);
    expect(byId(other)?.DoNotCall).toBeUndefined();
    const patch = sf.requests.find((r) => r.method === 'PATCH');
    expect(patch?.path).toBe(`/services/data/v62.0/sobjects/Contact/${c}`);
    expect(patch?.body).toEqual({ DoNotCall: true });
  });

  it('classifies 401, 403, 429 (+Retry-After), 503 and 400 as CrmError without leaking the token', async () => {
    const err = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return e as CrmError;
      }
      throw new Error('expected a rejection');
    };
    const e401 = await err(connector('wrong-token-value-123').logCall(activity()));
    expect(e401).toBeInstanceOf(CrmError);
    expect([e401.kind, e401.status, e401.retryable]).toEqual(['auth', 401, false]);
    expect(e401.message).toContain('INVALID_SESSION_ID');
    expect(e401.message).not.toContain('wrong-token-value-123');

    sf.script({ status: 403 });
    expect((await err(connector().logCall(activity()))).kind).toBe('auth');

    sf.script({ status: 429, retryAfter: 7 });
    const e429 = await err(connector().logCall(activity()));
    expect([e429.kind, e429.status, e429.retryAfterMs, e429.retryable]).toEqual(['rate_limited', 429, 7000, true]);

    sf.script({ status: 403, errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' });
    const eLimit = await err(connector().logCall(activity()));
    expect([eLimit.kind, eLimit.retryAfterMs]).toEqual(['rate_limited', null]);

    sf.script({ status: 503 });
    const e503 = await err(connector().logCall(activity()));
    expect([e503.kind, e503.retryable]).toEqual(['unavailable', true]);
    // jsforce's own retries are off: one request per scripted failure.
    expect(sf.requests.filter((r) => r.status === 503)).toHaveLength(1);

    sf.script({ status: 400, errorCode: 'INVALID_FIELD', message: "No such column 'CallObject' on entity 'Task'" });
    expect((await err(connector().logCall(activity()))).kind).toBe('invalid');
    expect(sf.records('Task')).toHaveLength(0);

    const url = sf.instanceUrl;
    await sf.close();
    const down = createSalesforceConnector({ instanceUrl: url, accessToken: TOKEN });
    const eNet = await err(down.logCall(activity()));
    expect([eNet.kind, eNet.status, eNet.retryable]).toEqual(['unavailable', null, true]);
    sf = await startSalesforceDouble({ accessToken: TOKEN }); // for afterEach
  });

  it('testConnection reads /limits and explains failures in an admin’s words', async () => {
    const ok = await connector().testConnection();
    expect(ok.ok).toBe(true);
    expect(sf.requests.at(-1)?.path).toBe('/services/data/v62.0/limits');

    const expired = await connector('expired-session-token-xyz').testConnection();
    expect(expired.ok).toBe(false);
    expect(expired.message).toMatch(/session expired or was revoked/);
    expect(expired.message).not.toContain('expired-session-token-xyz');

    sf.script({ status: 403, errorCode: 'INSUFFICIENT_ACCESS' });
    expect((await connector().testConnection()).message).toMatch(/lacks permission/);
    sf.script({ status: 403, errorCode: 'API_DISABLED_FOR_ORG', message: 'API is not enabled for this Organization or Partner' });
    expect((await connector().testConnection()).message).toMatch(/does not allow API access/);
    sf.script({ status: 503 });
    expect((await connector().testConnection()).message).toMatch(/temporarily unavailable/);

    const url = sf.instanceUrl;
    await sf.close();
    const unreachable = await createSalesforceConnector({ instanceUrl: url, accessToken: TOKEN }).testConnection();
    expect(unreachable).toEqual({ ok: false, message: expect.stringMatching(/^Could not reach Salesforce at http:\/\/127\.0\.0\.1/) });
    sf = await startSalesforceDouble({ accessToken: TOKEN });
  });

  it('honours an aborted signal without sending', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(connector().logCall(activity(), ac.signal)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(sf.requests).toHaveLength(0);
  });
});
