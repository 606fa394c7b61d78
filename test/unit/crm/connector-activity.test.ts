import { buildCallActivity, fallbackDisposition, type CallActivitySource } from '../../../src/crm/activity';
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
  transferred: false,
  callerTurns: 2,
  hasRecording: false,
  events: [],
  ...over,
});

describe('CRM call activity', () => {
  it('falls back to a disposition from status and events', () => {
    expect(fallbackDisposition(source({ status: 'busy' }))).toBe('busy');
    expect(fallbackDisposition(source({ status: 'no-answer' }))).toBe('no_answer');
    expect(fallbackDisposition(source({ status: 'canceled' }))).toBe('failed');
    expect(fallbackDisposition(source({ events: [{ type: 'opt_out', payload: {} }] }))).toBe('opted_out');
    expect(fallbackDisposition(source({ events: [{ type: 'voicemail', payload: { played: true } }] }))).toBe('voicemail');
    expect(fallbackDisposition(source({ events: [{ type: 'callback', payload: { booked: false } }] }))).toBe('unresolved');
    expect(fallbackDisposition(source({ events: [{ type: 'callback', payload: { booked: true } }] }))).toBe('callback_booked');
    expect(fallbackDisposition(source({ transferred: true }))).toBe('transferred');
    expect(fallbackDisposition(source({ callerTurns: 0 }))).toBe('abandoned');
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
    expect(web).toMatchObject({ direction: 'web', customerNumber: null, durationMs: 60_000, disposition: 'unresolved', summary: '', recordingUrl: null, fields: {} });
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
