import { StereoTimeline } from '../../../src/recordings/stereo-timeline';
import { decoded, frames20ms, manualClock, phoneMulaw, sameSamples } from '../../helpers/recording-audio';

/** Splits interleaved PCM16 bytes into channels. */
const split = (b: Buffer) => {
  const n = b.length / 4;
  const left = new Int16Array(n);
  const right = new Int16Array(n);
  for (let i = 0; i < n; i++) [left[i], right[i]] = [b.readInt16LE(4 * i), b.readInt16LE(4 * i + 2)];
  return { left, right };
};
const held = (t: StereoTimeline) => (t as unknown as { caller: Uint8Array; agent: Uint8Array }).caller.length + (t as unknown as { agent: Uint8Array }).agent.length;

describe('StereoTimeline', () => {
  const agentAudio = phoneMulaw('librivox-0880');

  it('holds back what may still change: caller frames sent ahead of the clock are not final yet', () => {
    const clock = manualClock();
    const t = new StereoTimeline(clock);
    for (const f of frames20ms(phoneMulaw('librivox-0870')).slice(0, 50)) t.inbound(f); // 1 s sent at once
    expect(t.ready()).toBe(0);
    clock.advance(400);
    expect(t.ready()).toBe(3_200);
    clock.advance(5_000);
    expect(t.ready()).toBe(8_000); // never past the caller's last sample
  });

  it('queues agent audio back to back from when it was sent, and a clear cuts it at now', () => {
    const clock = manualClock();
    const t = new StereoTimeline(clock);
    clock.advance(100);
    t.outbound(agentAudio.subarray(0, 800)); // 100–200 ms
    t.outbound(agentAudio.subarray(800, 1_600)); // 200–300 ms (queued behind the first)
    clock.advance(150); // now 250 ms: half of the second chunk played
    t.clear();
    t.clear(); // a second clear with nothing queued changes nothing
    for (let i = 0; i < 25; i++) t.inbound(new Uint8Array(160).fill(0xff)); // 500 ms of caller silence
    clock.advance(1_000);
    const { left, right } = split(t.take(t.ready()));
    expect(left.length).toBe(4_000);
    expect(right.subarray(0, 800).every((s) => s === 0)).toBe(true);
    expect(sameSamples(right.subarray(800, 2_000), decoded(agentAudio.subarray(0, 1_200)))).toBe(true);
    expect(right.subarray(2_000).every((s) => s === 0)).toBe(true);
  });

  it('finish keeps the agent audio played by the end and drops what was still queued', () => {
    const clock = manualClock();
    const t = new StereoTimeline(clock);
    t.inbound(new Uint8Array(800).fill(0xff)); // 100 ms of caller
    t.outbound(agentAudio.subarray(0, 8_000)); // 1 s of agent from 0
    clock.advance(300);
    const { left, right } = split(t.finish());
    expect(left.length).toBe(2_400); // the agent's 300 ms heard, past the caller's 100 ms
    expect(sameSamples(right, decoded(agentAudio.subarray(0, 2_400)))).toBe(true);
  });

  it('an hour of call holds a bounded amount: what is final is taken every second', () => {
    const clock = manualClock();
    const t = new StereoTimeline(clock);
    const frame = new Uint8Array(160).fill(0x7f);
    let taken = 0;
    for (let i = 0; i < 180_000; i++) {
      clock.advance(20);
      t.inbound(frame);
      if (i % 500 === 0) t.outbound(agentAudio.subarray(0, 16_000)); // 2 s of agent every 10 s
      if (i % 1_000 === 7) t.clear();
      if (t.ready() >= 8_000) taken += t.take(t.ready()).length / 4;
    }
    taken += t.finish().length / 4;
    expect(taken).toBe(180_000 * 160);
    expect(held(t)).toBeLessThanOrEqual(2 * 32_000);
  });
});
