import fc from 'fast-check';
import { parseInbound, parseInboundStrict, ProtocolError, type InboundEvent } from '../../../src/telephony/protocol';
import { fuzzFrame, invalidEventReason } from '../../integration/telephony/fuzz-frames';

const SEED = 20_261_202;

type Outcome = { ok: InboundEvent } | { error: string };
function outcome(parse: (t: string) => InboundEvent, text: string): Outcome {
  try {
    return { ok: parse(text) };
  } catch (err) {
    if (err instanceof ProtocolError) return { error: err.reason };
    throw err; // anything but a ProtocolError fails the property
  }
}

describe('Twilio Media Streams codec under fuzzing', () => {
  it('throws only ProtocolError (with a printable reason) and returns only well-formed events (8000 frames)', () => {
    fc.assert(
      fc.property(fuzzFrame('MZ1', 'CA1'), (f) => {
        const text = 'text' in f ? f.text : Buffer.from(f.binary).toString();
        const r = outcome(parseInbound, text);
        if ('error' in r) {
          expect(r.error.length).toBeGreaterThan(0);
          expect(r.error.length).toBeLessThanOrEqual(120);
        } else {
          expect(invalidEventReason(r.ok)).toBeNull();
        }
      }),
      { seed: SEED, numRuns: 8000 },
    );
  });

  it('the media fast path accepts, returns and rejects exactly as the zod schema (4000 frames)', () => {
    fc.assert(
      fc.property(fuzzFrame('MZ1', 'CA1'), (f) => {
        if (!('text' in f)) return;
        const fast = outcome(parseInbound, f.text);
        const strict = outcome(parseInboundStrict, f.text);
        expect(fast).toEqual(strict);
        if ('ok' in fast && fast.ok.event === 'media') expect('track' in fast.ok).toBe('ok' in strict && 'track' in strict.ok && strict.ok.track !== undefined);
      }),
      { seed: SEED + 1, numRuns: 4000 },
    );
  });

  it('numbers are decoded as safe integers: counters of 16+ digits are refused', () => {
    const frame = (seq: string) => JSON.stringify({ event: 'media', sequenceNumber: seq, streamSid: 'MZ1', media: { chunk: '1', timestamp: '0', payload: '' } });
    expect(parseInbound(frame('9'.repeat(15)))).toMatchObject({ sequenceNumber: 999_999_999_999_999 });
    expect(() => parseInbound(frame('9'.repeat(16)))).toThrow(/invalid media frame: sequenceNumber must be a numeric string/);
    expect(() => parseInbound(frame('9'.repeat(400)))).toThrow(ProtocolError);
  });
});
