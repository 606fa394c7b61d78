import { analyzeLocally } from '../../../src/analytics/call-analysis';
import { buildCallActivity, calleeOptedOut, type CallActivitySource } from '../../../src/crm/activity';
import type { CallFacts } from '../../../src/domain/call-analysis';
import { CONNECTOR_BACKOFF, ConnectorRetryError, connectorBackoff } from '../../../workers/processors/connector-sync';

const source = (over: Partial<CallActivitySource> = {}): CallActivitySource => ({
  callSid: 'CA1',
  direction: 'inbound',
  from: '+14155550100',
  to: '+14155550199',
  status: 'completed',
  startedAt: new Date('2026-12-03T10:00:00Z'),
  endedAt: new Date('2026-12-03T10:01:00Z'),
  summary: null,
  disposition: null,
  extractedFields: null,
  hasRecording: false,
  events: [],
  transfer: null,
  answeredBy: null,
  turns: [
    { role: 'agent', text: 'Hi, how can I help?' },
    { role: 'caller', text: 'When do you open on Saturday?' },
    { role: 'agent', text: 'We open at nine on Saturdays.' },
    { role: 'caller', text: 'Great, thanks.' },
  ],
  ...over,
});

describe('CRM call activity', () => {
  // The call's own disposition, as the post-call analysis (offline) stores it from the same facts.
  const onTheCall = (s: CallActivitySource) => {
    const f: CallFacts = { callSid: s.callSid, status: s.status, direction: s.direction, startedAt: s.startedAt, turns: s.turns, events: s.events, transfer: s.transfer, answeredBy: s.answeredBy, schema: null };
    return analyzeLocally(f).disposition;
  };
  const TRANSFER = { target: '+14155550111', reason: 'caller asked for a person', summary: 'Wants a refund.' };
  const BOOKED = { type: 'callback', payload: { at: '2026-12-04T15:00:00Z', said: 'tomorrow at three', booked: true } };
  const NOT_BOOKED = { type: 'callback', payload: { at: '2026-12-04T15:00:00Z', said: 'tomorrow at three', booked: false } };
  const OPT_OUT = { type: 'opt_out', payload: {} };
  const VOICEMAIL = { type: 'voicemail', payload: { played: true } };

  // Each of these got a different disposition from the CRM's former fallback than from the analysis.
  it.each<[string, Partial<CallActivitySource>, string]>([
    ['a voicemail call where the callee said opt-out', { events: [VOICEMAIL, OPT_OUT] }, 'voicemail'],
    ['an AMD machine answer (no voicemail event)', { answeredBy: 'machine_end_beep' }, 'voicemail'],
    ['a booked callback and then a transfer', { events: [BOOKED], transfer: TRANSFER }, 'transferred'],
    ['a callback asked for but not booked', { events: [NOT_BOOKED] }, 'resolved'],
    ['a conversation the caller ended satisfied', {}, 'resolved'],
  ])('not analysed: %s → %s, the same on the call and in the CRM', (_name, over, want) => {
    const s = source(over);
    expect(onTheCall(s)).toBe(want);
    expect(buildCallActivity(s, 'https://x.test').disposition).toBe(want);
  });

  it.each<[string, Partial<CallActivitySource>, string]>([
    ['busy', { status: 'busy' }, 'busy'],
    ['no-answer', { status: 'no-answer' }, 'no_answer'],
    ['canceled', { status: 'canceled' }, 'failed'],
    ['an opt-out', { events: [OPT_OUT] }, 'opted_out'],
    ['a booked callback', { events: [BOOKED] }, 'callback_booked'],
    ['a transfer event', { events: [{ type: 'transfer', payload: { target: '+1', reason: 'dtmf' } }] }, 'transferred'],
    ['a caller who said nothing', { turns: [{ role: 'agent', text: 'Hello?' }] }, 'abandoned'],
  ])('not analysed: %s → %s on both sides', (_name, over, want) => {
    const s = source(over);
    expect(onTheCall(s)).toBe(want);
    expect(buildCallActivity(s, 'https://x.test').disposition).toBe(want);
  });

  it('a stored disposition wins; an opt-out in a voicemail call still marks the callee do-not-call', () => {
    expect(buildCallActivity(source({ disposition: 'unresolved', events: [OPT_OUT] }), 'https://x.test').disposition).toBe('unresolved');
    expect(calleeOptedOut(source({ disposition: 'voicemail', events: [VOICEMAIL, OPT_OUT] }))).toBe(true);
    expect(calleeOptedOut(source({ disposition: 'opted_out' }))).toBe(true);
    expect(calleeOptedOut(source({ disposition: 'voicemail', events: [VOICEMAIL] }))).toBe(false);
  });

  it('builds the activity: outbound customer number, Twilio CallDuration, links, stored analysis', () => {
    const a = buildCallActivity(
      source({ direction: 'outbound-api', summary: 'Booked.', disposition: 'callback_booked', extractedFields: { x: 1 }, hasRecording: true, events: [{ type: 'twilio.status', payload: { CallStatus: 'completed', CallDuration: '42' } }] }),
      'https://voice.example.com',
    );
    expect(a).toMatchObject({
      direction: 'outbound',
      customerNumber: '+14155550199',
      durationMs: 42_000,
      disposition: 'callback_booked',
      summary: 'Booked.',
      fields: { x: 1 },
      callUrl: 'https://voice.example.com/calls/CA1',
      recordingUrl: 'https://voice.example.com/api/calls/CA1/recording',
    });
    const web = buildCallActivity(source({ direction: 'web', disposition: 'not-a-disposition' }), 'https://x.test');
    expect(web).toMatchObject({ direction: 'web', customerNumber: null, durationMs: 60_000, disposition: 'resolved', summary: '', recordingUrl: null, fields: {} });
  });

  it('backoff: exponential with jitter, never sooner than Retry-After', () => {
    const b = connectorBackoff(10_000);
    const job = { opts: { backoff: { type: CONNECTOR_BACKOFF, delay: 100 } } } as any;
    for (let i = 0; i < 20; i++) {
      const d3 = b(3, CONNECTOR_BACKOFF, new Error('5xx'), job);
      expect(d3).toBeGreaterThanOrEqual(320);
      expect(d3).toBeLessThanOrEqual(480);
    }
    expect(b(1, CONNECTOR_BACKOFF, new ConnectorRetryError('429', 7_000), job)).toBe(7_000);
    expect(b(30, CONNECTOR_BACKOFF, new Error('x'), job)).toBeLessThanOrEqual(12_000);
  });
});
