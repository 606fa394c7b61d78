import { clearMessage, markMessage, mediaMessage, parseInbound, ProtocolError } from '../../../src/telephony/protocol';

const start = {
  event: 'start',
  sequenceNumber: '1',
  streamSid: 'MZ1',
  start: {
    accountSid: 'AC1',
    streamSid: 'MZ1',
    callSid: 'CA1',
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    customParameters: { agentId: 'support' },
  },
};

describe('Twilio Media Streams codec', () => {
  it('parses the documented inbound frames with string sequence numbers', () => {
    expect(parseInbound(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }))).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const s = parseInbound(JSON.stringify(start));
    expect(s.event === 'start' && s.start.customParameters.agentId).toBe('support');
    const m = parseInbound(JSON.stringify({ event: 'media', sequenceNumber: '4', streamSid: 'MZ1', media: { track: 'inbound', chunk: '2', timestamp: '5', payload: Buffer.from([0xff, 0x7f, 0x00]).toString('base64') } }));
    expect(m).toMatchObject({ event: 'media', sequenceNumber: 4, chunk: 2, timestampMs: 5 });
    expect(m.event === 'media' && Array.from(m.mulaw)).toEqual([0xff, 0x7f, 0x00]);
    expect(parseInbound(JSON.stringify({ event: 'dtmf', sequenceNumber: '5', streamSid: 'MZ1', dtmf: { track: 'inbound_track', digit: '1' } }))).toMatchObject({ dtmf: { digit: '1' } });
    expect(parseInbound(JSON.stringify({ event: 'mark', sequenceNumber: '6', streamSid: 'MZ1', mark: { name: 'turn-3-seg-1' } }))).toMatchObject({ mark: { name: 'turn-3-seg-1' } });
    expect(parseInbound(JSON.stringify({ event: 'stop', sequenceNumber: '7', streamSid: 'MZ1', stop: { accountSid: 'AC1', callSid: 'CA1' } }))).toMatchObject({ event: 'stop' });
  });

  it('accepts media payloads of any size', () => {
    for (const n of [0, 1, 160, 333, 4000]) {
      const ev = parseInbound(JSON.stringify({ event: 'media', sequenceNumber: '9', streamSid: 'MZ1', media: { chunk: '1', timestamp: '0', payload: Buffer.alloc(n, 0xff).toString('base64') } }));
      expect(ev.event === 'media' && ev.mulaw.length).toBe(n);
    }
  });

  it.each([
    ['malformed JSON', '{"event":', /malformed JSON/],
    ['unknown event', JSON.stringify({ event: 'dance', sequenceNumber: '1' }), /unknown event/],
    ['numeric sequenceNumber', JSON.stringify({ ...start, sequenceNumber: 1 }), /sequenceNumber/],
    ['bad base64', JSON.stringify({ event: 'media', sequenceNumber: '2', streamSid: 'MZ1', media: { chunk: '1', timestamp: '0', payload: '***not base64***' } }), /not base64/],
    ['missing streamSid', JSON.stringify({ event: 'mark', sequenceNumber: '2', mark: { name: 'x' } }), /streamSid/],
    ['bad dtmf digit', JSON.stringify({ event: 'dtmf', sequenceNumber: '2', streamSid: 'MZ1', dtmf: { digit: 'x' } }), /digit/],
  ])('rejects %s with a ProtocolError reason', (_name, text, reason) => {
    expect(() => parseInbound(text)).toThrow(ProtocolError);
    expect(() => parseInbound(text)).toThrow(reason);
  });

  it('builds outbound media (raw mu-law, no header), mark and clear', () => {
    const mulaw = new Uint8Array([1, 2, 3, 250]);
    const media = JSON.parse(mediaMessage('MZ1', mulaw.subarray(1)));
    expect(media).toEqual({ event: 'media', streamSid: 'MZ1', media: { payload: Buffer.from([2, 3, 250]).toString('base64') } });
    expect(JSON.parse(markMessage('MZ1', 'turn-1-seg-1'))).toEqual({ event: 'mark', streamSid: 'MZ1', mark: { name: 'turn-1-seg-1' } });
    expect(JSON.parse(clearMessage('MZ1'))).toEqual({ event: 'clear', streamSid: 'MZ1' });
  });
});
