import { FRAME_BYTES_20MS } from '../../../src/audio/frames';
import { SileroVad, type VadFrame } from '../../../src/engine/vad';
import { TurnDetector, type TurnEvent, type TurnDetectorOptions } from '../../../src/engine/turn-detector';
import type { Pcm } from '../../../src/audio/types';
import { RECORDINGS, phoneAudio } from './fixtures';

/** Silence before each recording: a whole number of 32 ms VAD windows, so all runs see the same windows. */
const LEAD_MS = 512;

const withSilence = (pcm: Pcm, beforeMs: number, afterMs: number): Int16Array => {
  const out = new Int16Array(pcm.samples.length + (beforeMs + afterMs) * 8);
  out.set(pcm.samples, beforeMs * 8);
  return out;
};

async function detect(samples: Int16Array, o: TurnDetectorOptions = {}, quietGateDbfs: number | null = null): Promise<TurnEvent[]> {
  const td = new TurnDetector((await SileroVad.load()).createStream({ quietGateDbfs }), o);
  const events: TurnEvent[] = [];
  for (let i = 0; i < samples.length; i += FRAME_BYTES_20MS) events.push(...(await td.push(samples.subarray(i, i + FRAME_BYTES_20MS))));
  events.push(...(await td.flush()));
  return events;
}
const utterances = (e: TurnEvent[]) => e.filter((x): x is Extract<TurnEvent, { type: 'utterance' }> => x.type === 'utterance');

/** First/last time (ms) where the 20 ms RMS exceeds 15 % of the loudest 20 ms: a crude energy-based speech span. */
function energySpan(samples: Int16Array): { onMs: number; offMs: number } {
  const rms: number[] = [];
  for (let i = 0; i + 160 <= samples.length; i += 160) {
    let s = 0;
    for (let k = i; k < i + 160; k++) s += samples[k] * samples[k];
    rms.push(Math.sqrt(s / 160));
  }
  const thr = 0.15 * Math.max(...rms);
  const on = rms.findIndex((r) => r > thr);
  const off = rms.length - 1 - [...rms].reverse().findIndex((r) => r > thr);
  return { onMs: on * 20, offMs: (off + 1) * 20 };
}

/** Longest run of non-speech windows (with the detector's hysteresis) strictly between speech windows. */
function longestInternalPauseMs(frames: VadFrame[], pos = 0.5, neg = 0.35): number {
  let inSpeech = false, lastSpeechEnd = -1, longest = 0;
  for (const f of frames) {
    inSpeech = f.probability >= (inSpeech ? neg : pos);
    if (inSpeech) {
      if (lastSpeechEnd >= 0) longest = Math.max(longest, f.startMs - lastSpeechEnd);
      lastSpeechEnd = f.endMs;
    }
  }
  return longest;
}

describe('Silero VAD + TurnDetector on real phone-quality speech', () => {
  const pauses: Record<string, number> = {};

  it.each(RECORDINGS)('%s: exactly one utterance that covers the speech', async (name) => {
    const pcm = phoneAudio(name);
    const lead = LEAD_MS;
    const events = await detect(withSilence(pcm, lead, 1500));
    const u = utterances(events);
    expect(u).toHaveLength(1);
    expect(u[0].reason).toBe('silence');
    expect(events.filter((e) => e.type === 'speech_start')).toHaveLength(1);
    const { onMs, offMs } = energySpan(pcm.samples);
    // Speech span from the VAD lies near the energy span; the delivered audio covers all of it.
    expect(u[0].startMs).toBeLessThanOrEqual(lead + onMs + 150);
    expect(u[0].endMs).toBeGreaterThanOrEqual(lead + offMs - 250);
    expect(u[0].audioStartMs).toBeLessThanOrEqual(lead + onMs);
    expect(u[0].audioStartMs + u[0].audio.samples.length / 8).toBeGreaterThanOrEqual(lead + offMs - 50);
    expect(u[0].endpointedAtMs - u[0].endMs).toBeGreaterThanOrEqual(800);
    expect(u[0].endpointedAtMs - u[0].endMs).toBeLessThan(800 + 33);
  });

  async function measurePause(name: string): Promise<number> {
    if (pauses[name] === undefined) {
      const s = (await SileroVad.load()).createStream();
      const x = withSilence(phoneAudio(name), LEAD_MS, 1500);
      const frames: VadFrame[] = [];
      for (let i = 0; i < x.length; i += 160) frames.push(...(await s.push(x.subarray(i, i + 160))));
      frames.push(...(await s.flush()));
      pauses[name] = longestInternalPauseMs(frames);
    }
    return pauses[name];
  }

  it.each(RECORDINGS)('%s: the longest internal pause is shorter than the default silenceMs', async (name) => {
    const pause = await measurePause(name);
    expect(pause).toBeGreaterThan(0);
    expect(pause).toBeLessThan(800); // the default silenceMs keeps every recording in one turn
  });

  it('silenceMs just under the longest pause splits that recording (the measurement is real)', async () => {
    for (const n of RECORDINGS) await measurePause(n);
    const [name, pause] = Object.entries(pauses).sort((a, b) => b[1] - a[1])[0];
    // eslint-disable-next-line no-console
    console.log(`longest internal pause: ${JSON.stringify(pauses)} ms → one utterance needs silenceMs > ${pause}`);
    const split = utterances(await detect(withSilence(phoneAudio(name), LEAD_MS, 1500), { silenceMs: pause - 32, minSpeechMs: 64 }));
    expect(split.length).toBeGreaterThanOrEqual(2);
    const whole = utterances(await detect(withSilence(phoneAudio(name), LEAD_MS, 1500), { silenceMs: pause + 32, minSpeechMs: 64 }));
    expect(whole).toHaveLength(1);
  });

  it('3 s of silence produces no event', async () => {
    expect(await detect(new Int16Array(3 * 8000))).toEqual([]);
  });

  it('a 100 ms noise burst and a click produce no event', async () => {
    const x = new Int16Array(3 * 8000);
    let seed = 12345;
    for (let i = 8000; i < 8800; i++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; x[i] = (seed % 40000) - 20000; }
    x[16000] = 30000; x[16001] = -30000;
    expect(await detect(x)).toEqual([]);
  });

  it('the quiet-window gate (-60 dBFS, the server default) finds each turn where the recording alone has it, running ≥ 20 % fewer windows', async () => {
    const vad = await SileroVad.load();
    // Idle line noise at -70 dBFS (uniform, seeded) around two turns of the same real speech.
    let seed = 7;
    const line = (ms: number) => Int16Array.from({ length: ms * 8 }, () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff * 2 - 1) * 32768 * 10 ** (-70 / 20) * Math.sqrt(3));
    const GAP_MS = 1504; // whole 32 ms windows
    for (const name of RECORDINGS) {
      const speech = phoneAudio(name).samples;
      const speechMs = speech.length / 8;
      // Where Silero puts the turn in the recording alone (fresh state, no gate).
      const [alone] = utterances(await detect(withSilence(phoneAudio(name), LEAD_MS, 1500)));
      const x = new Int16Array((3 * GAP_MS + 2 * speechMs) * 8);
      [line(GAP_MS), speech, line(GAP_MS), speech, line(GAP_MS)].reduce((at, p) => (x.set(p, at), at + p.length), 0);
      const before = vad.batchStats().windows;
      const gated = utterances(await detect(x, {}, -60));
      const gatedWindows = vad.batchStats().windows - before;
      expect(gated).toHaveLength(2);
      [GAP_MS, 2 * GAP_MS + speechMs].forEach((at, i) => {
        expect(Math.abs(gated[i].startMs - (at + alone.startMs - LEAD_MS))).toBeLessThanOrEqual(64);
        expect(Math.abs(gated[i].endMs - (at + alone.endMs - LEAD_MS))).toBeLessThanOrEqual(64);
      });
      expect(gatedWindows).toBeLessThanOrEqual(0.8 * (x.length / 256));
    }
  });

  it('accepts any chunk size and reports VAD cost per second of audio', async () => {
    const vad = await SileroVad.load();
    const pcm = phoneAudio('librivox-0870');
    const run = async (chunk: number) => {
      const s = vad.createStream();
      const out: VadFrame[] = [];
      const t0 = performance.now();
      for (let i = 0; i < pcm.samples.length; i += chunk) out.push(...(await s.push(pcm.samples.subarray(i, i + chunk))));
      out.push(...(await s.flush()));
      return { out, ms: performance.now() - t0 };
    };
    const a = await run(160);
    const b = await run(97);
    const c = await run(4096);
    expect(a.out.length).toBe(Math.ceil((pcm.samples.length * 2) / 512));
    expect(b.out).toEqual(a.out);
    expect(c.out).toEqual(a.out);
    const perSecond = a.ms / (pcm.samples.length / 8000);
    // eslint-disable-next-line no-console
    console.log(`Silero VAD cost: ${perSecond.toFixed(1)} ms per second of 8 kHz audio (20 ms chunks)`);
    expect(perSecond).toBeLessThan(200);
  });
});
