import { TurnDetector, type TurnEvent } from '../../../src/engine/turn-detector';
import { EnergyVad } from '../../helpers/energy-vad';
import { Speculator, endpointingSilenceFor } from '../../../src/engine/speculation';
import type { Transcription } from '../../../src/engine/caller-input';
import { FakeStt } from '../../../src/providers/stt/fake';
import { advance, cleanupSessions, endCall, setup, until, utterance } from '../../helpers/session-harness';

const ms = (t: number) => Math.round(t * 8);
const silence = (t: number) => new Int16Array(ms(t));
const tone = (t: number) => Int16Array.from({ length: ms(t) }, (_, i) => Math.round(5000 * Math.sin((2 * Math.PI * 300 * i) / 8000)));

/** Pushes `x` in 20 ms chunks; `after` runs after each push (with the events so far) so a test can act mid-stream. */
async function feed(td: TurnDetector, x: Int16Array, events: TurnEvent[], after?: (events: TurnEvent[]) => void): Promise<void> {
  for (let i = 0; i < x.length; i += 160) {
    events.push(...(await td.push(x.subarray(i, i + 160))));
    after?.(events);
  }
}
const of = <T extends TurnEvent['type']>(e: TurnEvent[], t: T) => e.filter((x): x is Extract<TurnEvent, { type: T }> => x.type === t);

describe('TurnDetector pause (speculative STT) and endpointAfter (adaptive endpointing)', () => {
  it('emits one pause per gap, carrying exactly the audio the utterance then has', async () => {
    const td = new TurnDetector(new EnergyVad(), { pauseMs: 200 });
    const events: TurnEvent[] = [];
    await feed(td, new Int16Array([...silence(320), ...tone(640), ...silence(1200)]), events);
    const [p] = of(events, 'pause');
    const [u] = of(events, 'utterance');
    expect(of(events, 'pause')).toHaveLength(1);
    expect(p.atMs - p.endMs).toBeGreaterThanOrEqual(200);
    expect(p.atMs - p.endMs).toBeLessThan(232);
    expect([p.startMs, p.endMs]).toEqual([u.startMs, u.endMs]);
    expect(p.audioStartMs).toBe(u.audioStartMs);
    expect(Array.from(p.audio.samples)).toEqual(Array.from(u.audio.samples));
    expect(u.endpointedAtMs - u.endMs).toBeGreaterThanOrEqual(800);
  });

  it('no pause when pauseMs is 0 (the default), nor for a segment never confirmed (noise)', async () => {
    const a: TurnEvent[] = [];
    await feed(new TurnDetector(new EnergyVad()), new Int16Array([...tone(640), ...silence(1200)]), a);
    expect(of(a, 'pause')).toEqual([]);
    const b: TurnEvent[] = [];
    await feed(new TurnDetector(new EnergyVad(), { pauseMs: 200 }), new Int16Array([...tone(96), ...silence(1200)]), b);
    expect(b.map((e) => e.type)).toEqual(['speech_onset', 'backchannel']);
  });

  it('endpointAfter shortens that pause (400 ms) or lengthens it (1200 ms); speech resuming restores the default', async () => {
    for (const [set, atLeast, below] of [[400, 400, 432], [1200, 1200, 1232]] as const) {
      const td = new TurnDetector(new EnergyVad(), { pauseMs: 200 });
      const events: TurnEvent[] = [];
      let applied = false;
      await feed(td, new Int16Array([...tone(640), ...silence(2000)]), events, (e) => {
        const p = of(e, 'pause')[0];
        if (p && !applied) applied = td.endpointAfter(p.startMs, p.endMs, set);
      });
      expect(applied).toBe(true);
      const [u] = of(events, 'utterance');
      expect(u.endpointedAtMs - u.endMs).toBeGreaterThanOrEqual(atLeast);
      expect(u.endpointedAtMs - u.endMs).toBeLessThan(below);
    }
    // 1200 ms set at a first pause; the caller goes on after 300 ms: the next pause is back to the default 800 ms.
    const td = new TurnDetector(new EnergyVad(), { pauseMs: 200 });
    const events: TurnEvent[] = [];
    let first: Extract<TurnEvent, { type: 'pause' }> | undefined;
    await feed(td, new Int16Array([...tone(640), ...silence(300), ...tone(320), ...silence(1500)]), events, (e) => {
      const p = of(e, 'pause')[0];
      if (p && !first) {
        first = p;
        expect(td.endpointAfter(p.startMs, p.endMs, 1200)).toBe(true);
      }
    });
    const pauses = of(events, 'pause');
    const u = of(events, 'utterance');
    expect(pauses).toHaveLength(2);
    expect(u).toHaveLength(1);
    expect(u[0].endMs).toBe(pauses[1].endMs);
    expect(u[0].endpointedAtMs - u[0].endMs).toBeGreaterThanOrEqual(800);
    expect(u[0].endpointedAtMs - u[0].endMs).toBeLessThan(832);
    expect(td.endpointAfter(first!.startMs, first!.endMs, 400)).toBe(false); // stale: the caller spoke after it
  });

  it('endpointAfter refuses a pause that is not the current one', async () => {
    const td = new TurnDetector(new EnergyVad(), { pauseMs: 200 });
    const events: TurnEvent[] = [];
    await feed(td, new Int16Array([...tone(640), ...silence(250)]), events);
    const [p] = of(events, 'pause');
    expect(td.endpointAfter(p.startMs, p.endMs - 32, 400)).toBe(false);
    expect(td.endpointAfter(p.startMs, p.endMs, 400)).toBe(true);
  });
});

describe('endpointingSilenceFor', () => {
  const P = { completeMs: 400, defaultMs: 800, continuingMs: 1200 };
  it.each([
    ['What are your opening hours on Saturday?', 'en', 400],
    ['I would like a refund.', 'en', 400],
    ['My order number is', 'en', 1200],
    ['I ordered a sofa and', 'en', 1200],
    ['I ordered a sofa, um', 'en', 1200],
    ['I want to talk to the.', 'en', 1200], // a sentence cannot end on "the", whatever the punctuation
    ['He was not an ill-disposed young man,', 'en', 800], // Moonshine's comma: not a sign either way
    ['hello there', 'en', 800],
    ['¿Dónde está mi pedido?', 'es', 400],
    ['Quiero devolver el', 'es', 1200],
    ['Ich möchte wissen, wo meine Bestellung ist und', 'de', 1200],
    ['Bonjour, je voudrais un remboursement.', 'fr', 400],
    ['', 'en', 800],
    ['And so', null, 1200],
  ] as const)('%p (%s) → %d ms', (text, lang, want) => {
    expect(endpointingSilenceFor(text, lang, P)).toBe(want);
  });
});

describe('Speculator', () => {
  const pause = (startMs: number, endMs: number) =>
    ({ type: 'pause', atMs: endMs + 200, audio: { samples: new Int16Array(8), sampleRate: 8000 }, audioStartMs: startMs - 300, startMs, endMs, speechMs: endMs - startMs }) as const;
  const ok = (text: string, language = 'en'): Transcription => ({ ok: true, transcript: { text, language }, sttMs: 10 });

  it('hands the speculative transcription to the utterance that ended at that pause, once', async () => {
    const started: AbortSignal[] = [];
    const s = new Speculator(async (_a, _h, signal) => (started.push(signal), ok('When are you open?')), null, null);
    s.onPause(pause(1000, 2000), 'en');
    const t = s.take({ startMs: 1000, endMs: 2000 });
    expect(await t).toEqual(ok('When are you open?'));
    expect(s.take({ startMs: 1000, endMs: 2000 })).toBeNull();
    expect(started[0].aborted).toBe(false);
    expect(s.stats()).toEqual({ started: 1, used: 1, discarded: 0 });
  });

  it('discards (aborts) a speculation when the caller went on: the utterance is transcribed anew', async () => {
    const started: AbortSignal[] = [];
    const s = new Speculator(async (_a, _h, signal) => (started.push(signal), ok('When are you')), null, null);
    s.onPause(pause(1000, 2000), 'en');
    expect(s.take({ startMs: 1000, endMs: 2600 })).toBeNull();
    expect(started[0].aborted).toBe(true);
    s.onPause(pause(1000, 2600), 'en');
    s.onPause(pause(1000, 3000), 'en'); // a newer pause replaces the older speculation
    expect(started[1].aborted).toBe(true);
    expect(s.stats()).toEqual({ started: 3, used: 0, discarded: 2 });
  });

  it('with adaptive endpointing, sets the pause silence from the words heard; not for a discarded or empty one', async () => {
    const set: Array<[number, number, number]> = [];
    let text = 'What are your opening hours on Saturday?';
    const s = new Speculator(async () => ok(text), (a, b, m) => void set.push([a, b, m]), { completeMs: 400, defaultMs: 800, continuingMs: 1200 });
    s.onPause(pause(1000, 2000), 'en');
    await new Promise((r) => setImmediate(r));
    expect(set).toEqual([[1000, 2000, 400]]);
    text = 'My number is';
    s.onPause(pause(1000, 2600), 'en');
    s.onPause(pause(1000, 3000), 'en'); // the 2600 one is discarded before its transcript arrives
    await new Promise((r) => setImmediate(r));
    expect(set).toEqual([[1000, 2000, 400], [1000, 3000, 1200]]);
    text = '';
    s.onPause(pause(5000, 6000), 'en');
    await new Promise((r) => setImmediate(r));
    expect(set).toHaveLength(2);
  });
});

describe('CallSession with speculative transcription', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    cleanupSessions();
    jest.useRealTimers();
  });
  const pauseEv = (startMs: number, endMs: number): TurnEvent => ({ type: 'pause', atMs: endMs + 200, audio: { samples: new Int16Array((endMs - startMs) * 8), sampleRate: 8000 }, audioStartMs: startMs, startMs, endMs, speechMs: endMs - startMs });

  it('the turn that ends at the pause uses the transcript started there: one STT request, the reply does not wait for a new one', async () => {
    const stt = new FakeStt({ transcripts: ['When are you open on Saturday?'], latencyMs: 600 });
    const { session, mem, feedAt } = setup({ stt });
    session.start();
    await until(() => mem.turns.length === 1);
    feedAt(3200, pauseEv(1000, 3000));
    await advance(600); // the transcript is ready before the end of turn (3800)
    feedAt(3800, utterance(1000, 3000));
    await until(() => mem.turns.length === 3);
    expect(stt.calls).toHaveLength(1);
    expect(mem.turns[1]).toMatchObject({ role: 'caller', text: 'When are you open on Saturday?' });
    await endCall(session);
  });

  it('when the caller went on after the pause, that transcript is dropped and the whole turn is transcribed', async () => {
    // What the caller said up to the pause (1 s of audio), and the whole turn (2.2 s).
    const stt = new FakeStt({ respond: (audio) => (audio.samples.length > 8 * 1500 ? 'When are you open on Saturday?' : 'When are you'), latencyMs: 300 });
    const { session, mem, feedAt } = setup({ stt });
    session.start();
    await until(() => mem.turns.length === 1);
    feedAt(2200, pauseEv(1000, 2000));
    await advance(100);
    feedAt(4000, utterance(1000, 3200));
    await until(() => mem.turns.length === 3);
    expect(stt.calls.map((c) => c.samples)).toEqual([8000, 8 * 2200]);
    expect(mem.turns[1].text).toBe('When are you open on Saturday?');
    await endCall(session);
  });
});
