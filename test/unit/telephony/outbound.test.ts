import { OutboundChannel, type OutboundSocket } from '../../../src/telephony/outbound';

/** A socket whose buffered bytes and write completions the test controls. */
class FakeSocket implements OutboundSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  wire: any[] = [];
  private inFlight: Array<{ bytes: number; cb: (err?: Error) => void }> = [];
  send(data: string, cb: (err?: Error) => void): void {
    this.wire.push(JSON.parse(data));
    this.bufferedAmount += data.length;
    this.inFlight.push({ bytes: data.length, cb });
  }
  /** The kernel takes the oldest `n` writes. */
  drain(n = Infinity): void {
    while (n-- > 0 && this.inFlight.length) {
      const w = this.inFlight.shift()!;
      this.bufferedAmount -= w.bytes;
      w.cb();
    }
  }
}

const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');

describe('OutboundChannel (app → Twilio)', () => {
  function setup(o: { highWaterBytes?: number; maxHeldBytes?: number; maxCoalescedBytes?: number } = {}) {
    const ws = new FakeSocket();
    const turns: Array<() => void> = [];
    const overflows: number[] = [];
    const ch = new OutboundChannel(ws, 'MZ1', { ...o, onOverflow: (b) => overflows.push(b), defer: (fn) => turns.push(fn) });
    const endTurn = () => turns.splice(0).forEach((f) => f());
    return { ws, ch, endTurn, overflows, turns };
  }

  it('coalesces the media of one turn into one message, flushed before marks and clears, in call order', () => {
    const { ws, ch, endTurn } = setup();
    ch.sendMedia(new Uint8Array([1, 2]));
    ch.sendMedia(new Uint8Array([3]));
    ch.sendMark('a');
    ch.sendMedia(new Uint8Array([4]));
    ch.sendClear();
    ch.sendMedia(new Uint8Array([5, 6]));
    ch.sendMedia(new Uint8Array([7]));
    expect(ws.wire).toHaveLength(4); // the last media waits for the end of the turn
    endTurn();
    expect(ws.wire).toEqual([
      { event: 'media', streamSid: 'MZ1', media: { payload: b64([1, 2, 3]) } },
      { event: 'mark', streamSid: 'MZ1', mark: { name: 'a' } },
      { event: 'media', streamSid: 'MZ1', media: { payload: b64([4]) } },
      { event: 'clear', streamSid: 'MZ1' },
      { event: 'media', streamSid: 'MZ1', media: { payload: b64([5, 6, 7]) } },
    ]);
  });

  it('copies the caller’s bytes at once (the buffer may be reused) and schedules one flush per turn', () => {
    const { ws, ch, endTurn, turns } = setup();
    const buf = new Uint8Array([9, 9]);
    ch.sendMedia(buf);
    buf.fill(0);
    ch.sendMedia(buf);
    expect(turns).toHaveLength(1);
    endTurn();
    expect(ws.wire).toEqual([{ event: 'media', streamSid: 'MZ1', media: { payload: b64([9, 9, 0, 0]) } }]);
  });

  it('sends a long burst in pieces of at most maxCoalescedBytes', () => {
    const { ws, ch, endTurn } = setup({ maxCoalescedBytes: 400 });
    for (let i = 0; i < 5; i++) ch.sendMedia(new Uint8Array(160).fill(i));
    endTurn();
    expect(ws.wire.map((m) => Buffer.from(m.media.payload, 'base64').length)).toEqual([480, 320]);
  });

  it('holds messages above the high-water mark and sends them, in order, as the socket drains', () => {
    const { ws, ch, endTurn, overflows } = setup({ highWaterBytes: 500 });
    for (let i = 0; i < 10; i++) {
      ch.sendMedia(new Uint8Array(160).fill(i));
      endTurn();
      if (i === 6) ch.sendClear();
    }
    ch.sendMark('end');
    // ~280 bytes per media message: two fit under 500 bytes, the rest is held.
    expect(ws.wire).toHaveLength(2);
    expect(ch.heldBackBytes).toBeGreaterThan(0);
    while (ws.wire.length < 12) {
      const before = ws.wire.length;
      ws.drain(1);
      expect(ws.wire.length).toBeGreaterThanOrEqual(before);
      expect(ws.bufferedAmount).toBeLessThan(500 + 300);
    }
    ws.drain();
    expect(ch.heldBackBytes).toBe(0);
    const order = ws.wire.map((m) => (m.event === 'media' ? Buffer.from(m.media.payload, 'base64')[0] : m.event));
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 'clear', 7, 8, 9, 'mark']);
    expect(overflows).toEqual([]);
  });

  it('a peer that does not read overflows once, then everything is dropped', () => {
    const { ws, ch, endTurn, overflows } = setup({ highWaterBytes: 1000, maxHeldBytes: 5000 });
    for (let i = 0; i < 100; i++) {
      ch.sendMedia(new Uint8Array(160));
      endTurn();
    }
    expect(overflows).toHaveLength(1);
    expect(overflows[0]).toBeGreaterThan(5000);
    const sent = ws.wire.length;
    ws.drain();
    ch.sendMark('x');
    expect(ws.wire.length).toBe(sent);
  });

  it('sends nothing once the socket is no longer open', () => {
    const { ws, ch, endTurn } = setup();
    ws.readyState = 3;
    ch.sendMedia(new Uint8Array([1]));
    ch.sendMark('m');
    endTurn();
    expect(ws.wire).toEqual([]);
  });
});
