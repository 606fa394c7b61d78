import { TurnDetector, type TurnEvent } from '../../../src/engine/turn-detector';
import type { VadFrame } from '../../../src/engine/vad';
import { EnergyVad } from '../../helpers/energy-vad';

/** EnergyVad whose windows starting in [fromMs, toMs) fail, as SileroVadStream reports a failed inference. */
class FailingVad extends EnergyVad {
  constructor(private readonly fromMs: number, private readonly toMs: number) {
    super();
  }
  override async push(x: Int16Array): Promise<VadFrame[]> {
    return this.fail(await super.push(x));
  }
  override async flush(): Promise<VadFrame[]> {
    return this.fail(await super.flush());
  }
  private fail(fs: VadFrame[]): VadFrame[] {
    return fs.map((f) => (f.startMs >= this.fromMs && f.startMs < this.toMs ? { startMs: f.startMs, endMs: f.endMs, probability: NaN, failed: true as const } : f));
  }
}

const ms = (t: number) => Math.round(t * 8);
const silence = (t: number) => new Int16Array(ms(t));
const tone = (t: number) => Int16Array.from({ length: ms(t) }, (_, i) => Math.round(5000 * Math.sin((2 * Math.PI * 300 * i) / 8000)));
const concat = (...xs: Int16Array[]) => Int16Array.from(xs.flatMap((x) => Array.from(x)));

async function run(signal: Int16Array, opts = {}, chunk = 160, flush = true): Promise<TurnEvent[]> {
  const td = new TurnDetector(new EnergyVad(), opts);
  const events: TurnEvent[] = [];
  for (let i = 0; i < signal.length; i += chunk) events.push(...(await td.push(signal.subarray(i, i + chunk))));
  if (flush) events.push(...(await td.flush()));
  return events;
}
/** The endpointing events only (barge-in events are tested separately). */
const core = (e: TurnEvent[]) => e.filter((x) => x.type === 'speech_start' || x.type === 'utterance');
const utterances = (e: TurnEvent[]) => e.filter((x): x is Extract<TurnEvent, { type: 'utterance' }> => x.type === 'utterance');

describe('TurnDetector (energy VAD stand-in)', () => {
  it('silence produces no events', async () => {
    expect(await run(silence(3000))).toEqual([]);
  });

  it('a 100 ms burst produces no event (shorter than minSpeechMs)', async () => {
    expect(core(await run(concat(silence(500), tone(100), silence(1500))))).toEqual([]);
  });

  it('one spoken second gives speech_start then one utterance endpointed ~silenceMs after the speech', async () => {
    const ev = core(await run(concat(silence(1000), tone(1000), silence(1500))));
    expect(ev.map((e) => e.type)).toEqual(['speech_start', 'utterance']);
    const start = ev[0] as Extract<TurnEvent, { type: 'speech_start' }>;
    expect(start.atMs - start.speechStartMs).toBeGreaterThanOrEqual(250);
    expect(start.atMs - start.speechStartMs).toBeLessThan(250 + 32);
    const u = utterances(ev)[0];
    expect(u.reason).toBe('silence');
    expect(Math.abs(u.startMs - 1000)).toBeLessThanOrEqual(32);
    expect(Math.abs(u.endMs - 2000)).toBeLessThanOrEqual(32);
    expect(u.endpointedAtMs - u.endMs).toBeGreaterThanOrEqual(800);
    expect(u.endpointedAtMs - u.endMs).toBeLessThan(800 + 32);
    expect(u.audioStartMs).toBe(u.startMs - 300);
    expect(u.audio.sampleRate).toBe(8000);
    expect(u.audio.samples.length).toBe(ms(u.endMs + 200 - u.audioStartMs));
    // The audio really is the tone (RMS ≈ 5000/√2 in the middle), starting with preroll silence.
    expect(Math.max(...Array.from(u.audio.samples.subarray(0, ms(250)), Math.abs))).toBe(0);
    const mid = u.audio.samples.subarray(ms(500), ms(900));
    expect(Math.sqrt(mid.reduce((a, v) => a + v * v, 0) / mid.length)).toBeGreaterThan(3000);
  });

  it('a pause shorter than silenceMs stays inside one utterance; a longer one splits it', async () => {
    const sig = concat(silence(500), tone(700), silence(500), tone(700), silence(1500));
    expect(utterances(await run(sig, { silenceMs: 800 }))).toHaveLength(1);
    expect(utterances(await run(sig, { silenceMs: 300 }))).toHaveLength(2);
  });

  it('caps an utterance at maxUtteranceMs and keeps going', async () => {
    const u = utterances(await run(concat(silence(200), tone(2600), silence(1500)), { maxUtteranceMs: 1000 }));
    expect(u.map((x) => x.reason)).toEqual(['max_length', 'max_length', 'silence']);
    expect(u[0].endMs - u[0].startMs).toBeGreaterThanOrEqual(1000);
    expect(u[0].endMs - u[0].startMs).toBeLessThan(1032);
  });

  it('flush returns speech still in progress as end_of_stream, and nothing for unconfirmed speech', async () => {
    const u = utterances(await run(concat(silence(300), tone(600), silence(100))));
    expect(u).toHaveLength(1);
    expect(u[0].reason).toBe('end_of_stream');
    expect(core(await run(concat(silence(300), tone(150))))).toEqual([]);
  });

  it('gives the same events whatever the chunk size', async () => {
    const sig = concat(silence(700), tone(900), silence(300), tone(400), silence(1200));
    const a = await run(sig, {}, 160);
    const b = await run(sig, {}, 37);
    const c = await run(sig, {}, 4000);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('applies hysteresis: 0.4 continues speech but does not start it', () => {
    const frames = (ps: number[]) => ps.map((p, i) => ({ startMs: i * 32, endMs: i * 32 + 32, probability: p }));
    const td = () => new TurnDetector(new EnergyVad(), { minSpeechMs: 96, silenceMs: 96 });
    expect(td().consume(frames([0.4, 0.4, 0.4, 0.4, 0.4, 0.1, 0.1, 0.1]))).toEqual([]);
    const ev = core(td().consume(frames([0.9, 0.4, 0.4, 0.1, 0.1, 0.1, 0.1])));
    expect(ev.map((e) => e.type)).toEqual(['speech_start', 'utterance']);
  });

  it('barge-in events: onset at the first speech window, barge_in at bargeInMinSpeechMs, once per segment', async () => {
    const ev = await run(concat(silence(500), tone(1000), silence(1500)), { bargeInMinSpeechMs: 400 });
    expect(ev.map((e) => e.type)).toEqual(['speech_onset', 'speech_start', 'barge_in', 'utterance']);
    const onset = ev[0] as Extract<TurnEvent, { type: 'speech_onset' }>;
    const barge = ev[2] as Extract<TurnEvent, { type: 'barge_in' }>;
    expect(Math.abs(onset.speechStartMs - 500)).toBeLessThanOrEqual(32);
    expect(onset.atMs - onset.speechStartMs).toBe(32);
    expect(barge.atMs - barge.speechStartMs).toBeGreaterThanOrEqual(400);
    expect(barge.atMs - barge.speechStartMs).toBeLessThan(432);
  });

  it('a short "mm-hm" is a backchannel (after backchannelGapMs), not a barge-in; talking on makes it one', async () => {
    const short = await run(concat(silence(500), tone(300), silence(1500)), { bargeInMinSpeechMs: 400, backchannelGapMs: 300 });
    expect(short.map((e) => e.type)).toEqual(['speech_onset', 'speech_start', 'backchannel', 'utterance']);
    const bc = short[2] as Extract<TurnEvent, { type: 'backchannel' }>;
    expect(bc.speechMs).toBeLessThan(400);
    expect(utterances(short)[0].speechMs).toBe(bc.speechMs);
    const onAfter = await run(concat(silence(500), tone(300), silence(400), tone(600), silence(1500)), { bargeInMinSpeechMs: 400, backchannelGapMs: 300 });
    expect(onAfter.map((e) => e.type)).toEqual(['speech_onset', 'speech_start', 'backchannel', 'barge_in', 'utterance']);
  });

  it('failed VAD windows carry on the previous decision: a failure inside speech keeps the segment, adds no speech time; in silence it starts nothing', async () => {
    const pushAll = async (td: TurnDetector, sig: Int16Array) => {
      const events: TurnEvent[] = [];
      for (let i = 0; i < sig.length; i += 160) events.push(...(await td.push(sig.subarray(i, i + 160))));
      return [...events, ...(await td.flush())];
    };
    // Speech 512..2512 ms; windows from 1024 to 2048 ms fail (more than silenceMs = 800).
    const sig = concat(silence(512), tone(2000), silence(1500));
    const ev = await pushAll(new TurnDetector(new FailingVad(1024, 2048)), sig);
    expect(ev.map((e) => e.type)).toEqual(['speech_onset', 'speech_start', 'barge_in', 'utterance']);
    const u = utterances(ev)[0];
    expect(u.reason).toBe('silence');
    expect(u.startMs).toBe(512);
    expect(u.endMs).toBe(2528); // the last (real) speech window, after the failures
    expect(u.speechMs).toBe(2016 - 1024); // failed windows add no speech time
    expect(u.audio.samples.length).toBe(ms(u.endMs + 200 - u.audioStartMs)); // the audio under the failures is kept

    // Failures in silence start nothing; failures right after a short blip neither confirm it nor end it early.
    expect(await pushAll(new TurnDetector(new FailingVad(0, 3000)), concat(silence(1000), tone(1500)))).toEqual([]);
    const blip = await pushAll(new TurnDetector(new FailingVad(576, 1600)), concat(silence(512), tone(1000), silence(1500)));
    expect(blip.map((e) => e.type)).toEqual(['speech_onset', 'backchannel']);
    expect((blip[1] as Extract<TurnEvent, { type: 'backchannel' }>).atMs).toBe(1600 + 320); // gap counted from the failures' end
  });

  it('rejects invalid options', () => {
    expect(() => new TurnDetector(new EnergyVad(), { silenceMs: -1 })).toThrow(/silenceMs/);
    expect(() => new TurnDetector(new EnergyVad(), { positiveThreshold: 0.3, negativeThreshold: 0.5 })).toThrow(/Threshold/);
  });
});
