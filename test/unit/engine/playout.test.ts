import { Playout } from '../../../src/engine/playout';
import type { AudioChunk } from '../../../src/providers/types';
import { cutHeardText, splitHeardText } from '../../../src/engine/heard-text';
import { FakeTwilioPlayer } from '../../helpers/twilio-player';

async function* chunks(...sizes: number[]): AsyncIterable<AudioChunk> {
  for (const n of sizes) yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(n).fill(0x7f) };
}
const live = () => new AbortController().signal;
/** Time passes on Jest's fake clock (Playout reads performance.now(), faked with the timers). */
const sleep = (ms: number) => jest.advanceTimersByTimeAsync(ms);

/** A transport that records and never plays (marks are echoed by hand). */
function recorder() {
  const sent: Array<{ kind: 'media' | 'mark' | 'clear'; bytes?: number; name?: string; data?: Uint8Array }> = [];
  return {
    sent,
    t: {
      sendMedia: (m: Uint8Array) => sent.push({ kind: 'media', bytes: m.length, data: m }),
      sendMark: (name: string) => sent.push({ kind: 'mark', name }),
      sendClear: () => sent.push({ kind: 'clear' }),
    },
  };
}

describe('Playout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends whole 20 ms frames as they arrive, the rest at the end, then a mark, and tracks pending marks', async () => {
    const { t, sent } = recorder();
    const p = new Playout(t);
    p.beginUtterance();
    const r = await p.playSegment(chunks(100, 300, 45), { mark: 'turn-1-seg-1', text: 'Hi.' }, live());
    expect(r.bytes).toBe(445);
    // 100 bytes: no whole frame yet; 400: two frames (320 bytes) in one message; the end flushes the last 125.
    expect(sent.filter((s) => s.kind === 'media').map((s) => s.bytes)).toEqual([320, 125]);
    expect(sent.at(-1)).toMatchObject({ kind: 'mark', name: 'turn-1-seg-1' });
    expect(p.speaking).toBe(true);
    expect(p.onMark('turn-1-seg-1')).toBe('played');
    expect(p.speaking).toBe(false);
    expect(p.heard()).toMatchObject({ text: 'Hi.', complete: true });
  });

  it('splits audio already synthesized into messages of at most 100 ms (800 bytes)', async () => {
    const { t, sent } = recorder();
    const p = new Playout(t);
    p.beginUtterance();
    await p.playSegment(chunks(2000), { mark: 'm', text: 'A long sentence.' }, live());
    // While streaming: the whole frames (1,920 bytes) as 800 + 800 + 320; the segment's end flushes the last 80.
    expect(sent.filter((s) => s.kind === 'media').map((s) => s.bytes)).toEqual([800, 800, 320, 80]);
  });

  it('mu-law passes through byte for byte', async () => {
    const { t, sent } = recorder();
    const p = new Playout(t);
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 13) & 0xff);
    p.beginUtterance();
    await p.playSegment((async function* () { yield { encoding: 'mulaw' as const, sampleRate: 8000, data: data.subarray(0, 333) }; yield { encoding: 'mulaw' as const, sampleRate: 8000, data: data.subarray(333) }; })(), { mark: 'm', text: 'x' }, live());
    const out = Buffer.concat(sent.filter((s) => s.kind === 'mark' ? false : s.kind === 'media').map((s) => Buffer.from(s.data!)));
    expect(out.equals(Buffer.from(data))).toBe(true);
  });

  it('pause sends clear; marks echoed afterwards are reported as cleared; heard text stops at the cut', async () => {
    const { t, sent } = recorder();
    const p = new Playout(t);
    p.beginUtterance();
    await p.playSegment(chunks(800), { mark: 'a', text: 'First part.' }, live());
    await p.playSegment(chunks(8000), { mark: 'b', text: 'one two three four five six seven eight nine ten' }, live());
    expect(p.onMark('a')).toBe('played');
    await sleep(300); // ~2400 of b's 8000 bytes have played
    expect(p.pause()).toBe(true);
    expect(sent.at(-1)).toEqual({ kind: 'clear' });
    expect(p.onMark('b')).toBe('cleared');
    expect(p.onMark('zzz')).toBe('unknown');
    const heard = p.heard();
    expect(heard.complete).toBe(false);
    expect(heard.text.startsWith('First part. one two')).toBe(true);
    expect(heard.text).not.toContain('eight');
    // The rest of the cut segment is unheard, word for word after the heard part.
    expect(`${heard.text} ${heard.unheard}`).toBe('First part. one two three four five six seven eight nine ten');
    expect(heard.unheard).toMatch(/ten$/);
  });

  it('unheard text also holds the segments sent after the one that was cut', async () => {
    const { t } = recorder();
    const p = new Playout(t);
    p.beginUtterance();
    await p.playSegment(chunks(1600), { mark: 'a', text: 'one two three four' }, live());
    await p.playSegment(chunks(800), { mark: 'b', text: 'Five six.' }, live());
    await p.playSegment(chunks(800), { mark: 'c', text: 'Seven.' }, live());
    await sleep(100); // 800 of a's 1600 bytes have played
    p.stop();
    expect(p.heard()).toEqual({ text: 'one two', complete: false, unheard: 'three four Five six. Seven.', bytes: 800 });
  });

  it('resume re-sends from the heard position and the segment mark again (new name)', async () => {
    const { t, sent } = recorder();
    const p = new Playout(t);
    p.beginUtterance();
    await p.playSegment(chunks(4000), { mark: 'a', text: 'Hello there.' }, live());
    await sleep(100); // ~800 bytes played
    p.pause();
    const before = sent.length;
    p.resume();
    const resent = sent.slice(before);
    const bytes = resent.filter((s) => s.kind === 'media').reduce((a, s) => a + s.bytes!, 0);
    expect(bytes).toBe(3200); // 4000 sent, 800 played in 100 ms of (fake) time
    expect(resent.at(-1)).toEqual({ kind: 'mark', name: 'a-r1' });
    expect(p.onMark('a')).toBe('cleared');
    expect(p.onMark('a-r1')).toBe('played');
    expect(p.heard()).toMatchObject({ text: 'Hello there.', complete: true });
  });

  it('holds audio that arrives while paused and sends it on resume', async () => {
    const { t, sent } = recorder();
    const p = new Playout(t);
    p.beginUtterance();
    const gate: { open?: () => void } = {};
    const opened = new Promise<void>((r) => (gate.open = r));
    const seg = p.playSegment((async function* () {
      yield { encoding: 'mulaw' as const, sampleRate: 8000, data: new Uint8Array(320) };
      await opened;
      yield { encoding: 'mulaw' as const, sampleRate: 8000, data: new Uint8Array(640) };
    })(), { mark: 's', text: 'x y' }, live());
    await sleep(5);
    p.pause();
    const mediaBefore = sent.filter((s) => s.kind === 'media').length;
    gate.open!();
    await seg;
    expect(sent.filter((s) => s.kind === 'media').length).toBe(mediaBefore);
    p.resume();
    expect(sent.filter((s) => s.kind === 'media').length).toBeGreaterThan(mediaBefore);
    expect(sent.at(-1)).toMatchObject({ kind: 'mark' });
  });

  it('drained() resolves when a real-time player has echoed every mark', async () => {
    const player = new FakeTwilioPlayer(1);
    const p = new Playout(player);
    player.attach((n) => p.onMark(n));
    p.beginUtterance();
    await p.playSegment(chunks(800), { mark: 'a', text: 'A.' }, live()); // 100 ms
    await p.playSegment(chunks(800), { mark: 'b', text: 'B.' }, live());
    let done = false;
    const drained = p.drained(live()).then(() => void (done = true));
    await jest.advanceTimersByTimeAsync(190); // 200 ms of audio: not played yet
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(20);
    await drained;
    expect(done).toBe(true);
    expect(p.heard()).toMatchObject({ text: 'A. B.', complete: true });
    player.close();
  });

  it('stops without a mark when aborted', async () => {
    const { t, sent } = recorder();
    const ac = new AbortController();
    async function* slow(): AsyncIterable<AudioChunk> {
      yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(320) };
      ac.abort();
      yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(320) };
    }
    const p = new Playout(t);
    p.beginUtterance();
    const r = await p.playSegment(slow(), { mark: 'x', text: 'x' }, ac.signal);
    expect(r.aborted).toBe(true);
    expect(sent.some((s) => s.kind === 'mark')).toBe(false);
  });

  it('converts pcm16 chunks (any split, odd byte counts) to 8 kHz mu-law with one resampler per segment', async () => {
    const { t, sent } = recorder();
    const pcm = new Int16Array(2400); // 100 ms at 24 kHz
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24000));
    const bytes = new Uint8Array(pcm.buffer);
    const p = new Playout(t);
    p.beginUtterance();
    const r = await p.playSegment((async function* () {
      for (let i = 0; i < bytes.length; i += 1001) yield { encoding: 'pcm16' as const, sampleRate: 24000, data: bytes.subarray(i, i + 1001) };
    })(), { mark: 'm', text: 'tone' }, live());
    expect(Math.abs(r.bytes - 800)).toBeLessThanOrEqual(2);
    expect(sent.filter((s) => s.kind === 'media').reduce((a, s) => a + s.bytes!, 0)).toBe(r.bytes);
  });
});

describe('cutHeardText', () => {
  it('keeps whole words up to the played fraction', () => {
    expect(cutHeardText('one two three four', 0)).toBe('');
    expect(cutHeardText('one two three four', 0.5)).toBe('one two');
    expect(cutHeardText('one two three four', 0.2)).toBe('one');
    expect(cutHeardText('one two three four', 1)).toBe('one two three four');
    expect(cutHeardText('one two three four', 0.1)).toBe('');
  });
  it('splitHeardText: the heard words and the rest, which rejoin to the text', () => {
    expect(splitHeardText('one two three four', 0.5)).toEqual({ heard: 'one two', rest: 'three four' });
    expect(splitHeardText(' one two ', 0)).toEqual({ heard: '', rest: 'one two' });
    expect(splitHeardText('one two', 1)).toEqual({ heard: 'one two', rest: '' });
    expect(splitHeardText('one two three four', 0.1)).toEqual({ heard: '', rest: 'one two three four' });
  });
});
