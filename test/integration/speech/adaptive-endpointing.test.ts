import { FRAME_BYTES_20MS } from '../../../src/audio/frames';
import { SileroVad } from '../../../src/engine/vad';
import { TurnDetector, type TurnEvent } from '../../../src/engine/turn-detector';
import { Speculator } from '../../../src/engine/speculation';
import type { Transcription } from '../../../src/engine/caller-input';
import { MoonshineStt } from '../../../src/providers/stt/moonshine';
import { RECORDINGS, phoneAudio } from './fixtures';

/**
 * Speculative STT + adaptive endpointing on real speech: Silero VAD, the real TurnDetector (pause at 200 ms), real
 * Moonshine. Audio is fed in 20 ms frames and each frame waits for any transcript that would have arrived by then
 * (the STT runs far faster than real time here), so the outcome does not depend on the machine's speed.
 */
describe('speculative STT and adaptive endpointing on the shipped recordings', () => {
  const stt = new MoonshineStt({ size: 'tiny', concurrency: 1 });
  beforeAll(() => stt.warmup(), 60_000);
  afterAll(() => stt.close());
  const P = { completeMs: 400, defaultMs: 800, continuingMs: 1200 };

  async function run(name: string) {
    const pcm = phoneAudio(name);
    const x = new Int16Array(pcm.samples.length + 8 * 2500);
    x.set(pcm.samples, 8 * 512);
    const td = new TurnDetector((await SileroVad.load()).createStream(), { pauseMs: 200 });
    const pending: Array<Promise<unknown>> = [];
    const spec = new Speculator(
      (audio, languageHint, signal) => {
        const p = stt.transcribe(audio, { languageHint, signal }).then((transcript): Transcription => ({ ok: true, transcript, sttMs: 0 }), (error): Transcription => ({ ok: false, error, sttMs: 0 }));
        pending.push(p);
        return p;
      },
      (a, b, m) => void td.endpointAfter(a, b, m),
      P,
    );
    const events: TurnEvent[] = [];
    for (let i = 0; i < x.length; i += FRAME_BYTES_20MS) {
      const evs = await td.push(x.subarray(i, i + FRAME_BYTES_20MS));
      events.push(...evs);
      for (const e of evs) if (e.type === 'pause') spec.onPause(e, 'en');
      await Promise.all(pending.splice(0)); // let a transcript land before the next frame
      await new Promise((r) => setImmediate(r));
    }
    const utterances = events.filter((e): e is Extract<TurnEvent, { type: 'utterance' }> => e.type === 'utterance');
    const used = utterances.map((u) => spec.take(u));
    return { utterances, used, stats: spec.stats() };
  }

  it.each(RECORDINGS)('%s: one utterance (its natural pauses are never split), ended by the adaptive silence, with the speculative transcript', async (name) => {
    const { utterances, used, stats } = await run(name);
    expect(utterances).toHaveLength(1);
    const u = utterances[0];
    expect(used[0]).not.toBeNull();
    const t = await used[0]!;
    expect(t.ok).toBe(true);
    const text = t.ok ? t.transcript.text : '';
    const silence = u.endpointedAtMs - u.endMs;
    // eslint-disable-next-line no-console
    console.log(`${name}: "${text}" → turn ended after ${silence} ms of silence; speculation ${JSON.stringify(stats)}`);
    const want = /[.?!]$/.test(text) ? P.completeMs : P.defaultMs;
    expect(silence).toBeGreaterThanOrEqual(want);
    expect(silence).toBeLessThan(want + 32);
  }, 60_000);
});
