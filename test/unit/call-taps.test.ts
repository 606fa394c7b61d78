import { openTaps, tappedTransport, type CallTap, type TappedCall } from '../../src/call-taps';

const call: TappedCall = { callSid: 'CA1', streamSid: 'MZ1', agentId: 'support', direction: 'inbound', from: '+15550001111', to: '+15550002222' };

function recordingTap(log: string[], name: string): CallTap {
  return {
    onInbound: (m) => log.push(`${name} in ${m.length}`),
    onOutbound: (m) => log.push(`${name} out ${m.length}`),
    onClear: () => log.push(`${name} clear`),
    close: async (r) => void log.push(`${name} close ${r}`),
  };
}

describe('call taps', () => {
  it('is null when no factory observes the call, so the transport is passed through untouched', () => {
    expect(openTaps([], call, () => {})).toBeNull();
    expect(openTaps([() => null], call, () => {})).toBeNull();
    const transport = { sendMedia: jest.fn(), sendMark: jest.fn(), sendClear: jest.fn() };
    expect(tappedTransport(transport, null)).toBe(transport);
  });

  it('fans audio, clears and close out to every tap; a throwing tap is dropped and the others go on', async () => {
    const log: string[] = [];
    const errors: unknown[] = [];
    let calls = 0;
    const faulty: CallTap = { ...recordingTap(log, 'bad'), onInbound: () => { calls++; throw new Error('disk full'); } };
    const tap = openTaps([() => recordingTap(log, 'a'), () => faulty, () => { throw new Error('no tap'); }], call, (e) => errors.push(e))!;
    const transport = { sendMedia: jest.fn(), sendMark: jest.fn(), sendClear: jest.fn() };
    const t = tappedTransport(transport, tap);
    tap.onInbound(new Uint8Array(160));
    tap.onInbound(new Uint8Array(160));
    t.sendMedia(new Uint8Array(320));
    t.sendMark('m1');
    t.sendClear();
    await tap.close('hangup');
    expect(calls).toBe(1);
    expect(errors.map((e) => (e as Error).message)).toEqual(['no tap', 'disk full']);
    expect(log).toEqual(['a in 160', 'a in 160', 'a out 320', 'a clear', 'a close hangup']);
    expect(transport.sendMedia).toHaveBeenCalledWith(new Uint8Array(320));
    expect(transport.sendMark).toHaveBeenCalledWith('m1');
    expect(transport.sendClear).toHaveBeenCalledTimes(1);
  });
});
