import { mulaw8kToPcm } from '../../../src/audio/frames';
import { SileroVad } from '../../../src/engine/vad';
import { ProviderError } from '../../../src/providers/errors';
import { LocalEspeakTts } from '../../../src/providers/tts/local-espeak';
import type { AudioChunk } from '../../../src/providers/types';

const tts = new LocalEspeakTts();
const signal = () => new AbortController().signal;

async function collect(it: AsyncIterable<AudioChunk>): Promise<{ chunks: AudioChunk[]; bytes: Uint8Array }> {
  const chunks: AudioChunk[] = [];
  for await (const c of it) chunks.push(c);
  const bytes = new Uint8Array(chunks.reduce((a, c) => a + c.data.length, 0));
  let off = 0;
  for (const c of chunks) { bytes.set(c.data, off); off += c.data.length; }
  return { chunks, bytes };
}

describe('LocalEspeakTts', () => {
  it('speaks a sentence as ≥ 0.5 s of 8 kHz mu-law that the VAD hears as speech', async () => {
    const t0 = performance.now();
    const { chunks, bytes } = await collect(tts.synthesize('Thank you for calling. How can I help you today?', { language: 'en', signal: signal() }));
    const ms = performance.now() - t0;
    expect(chunks.every((c) => c.encoding === 'mulaw' && c.sampleRate === 8000)).toBe(true);
    expect(bytes.length).toBeGreaterThanOrEqual(4000);
    const vad = (await SileroVad.load()).createStream();
    const frames = [...(await vad.push(mulaw8kToPcm(bytes).samples)), ...(await vad.flush())];
    const speechMs = frames.filter((f) => f.probability >= 0.5).length * 32;
    // eslint-disable-next-line no-console
    console.log(`espeak-ng: ${(bytes.length / 8).toFixed(0)} ms of audio in ${chunks.length} chunks, ${ms.toFixed(0)} ms to synthesize; VAD speech ${speechMs} ms`);
    expect(speechMs).toBeGreaterThan(500);
  });

  it('streams: the first chunk arrives well before a long text is finished', async () => {
    const text = Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1} of a rather long answer.`).join(' ');
    const t0 = performance.now();
    let firstMs = -1;
    let count = 0;
    for await (const c of tts.synthesize(text, { language: 'en', signal: signal() })) {
      if (firstMs < 0) firstMs = performance.now() - t0;
      count += c.data.length;
    }
    const totalMs = performance.now() - t0;
    // eslint-disable-next-line no-console
    console.log(`espeak-ng first audio after ${firstMs.toFixed(0)} ms, all ${(count / 8000).toFixed(1)} s after ${totalMs.toFixed(0)} ms`);
    expect(firstMs).toBeLessThan(totalMs / 2);
  });

  it('aborts promptly: the iteration throws AbortError and stops', async () => {
    const ac = new AbortController();
    const text = Array.from({ length: 40 }, () => 'A very long reply that nobody will ever hear to the end.').join(' ');
    let received = 0;
    let abortedAt = 0;
    const err = await (async () => {
      for await (const c of tts.synthesize(text, { language: 'en', signal: ac.signal })) {
        received += c.data.length;
        if (!abortedAt) { abortedAt = Date.now(); ac.abort(); }
      }
    })().catch((e) => e);
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(received).toBeLessThan(8000 * 60); // far less than the full text (~3 minutes)
  });

  it('maps languages to voices and synthesizes Spanish', async () => {
    expect(tts.voiceFor('es')).toBe('es');
    expect(tts.voiceFor('en')).toBe('en-us');
    expect(tts.voiceFor('en', 'en-gb')).toBe('en-gb');
    const { bytes } = await collect(tts.synthesize('Hola, ¿en qué puedo ayudarle?', { language: 'es', signal: signal() }));
    expect(bytes.length).toBeGreaterThan(4000);
  });

  it('fails with ProviderError on an unknown voice, a bad voice name and a missing binary', async () => {
    const unknown = await collect(tts.synthesize('hello', { language: 'en', voice: 'no-such-voice-xyz', signal: signal() })).catch((e) => e);
    expect(unknown).toBeInstanceOf(ProviderError);
    expect(unknown.retryable).toBe(false);
    expect(() => tts.voiceFor('en', 'en; rm -rf /')).toThrow(ProviderError);
    const missing = await collect(new LocalEspeakTts({ bin: '/nonexistent/espeak-ng' }).synthesize('hello', { language: 'en', signal: signal() })).catch((e) => e);
    expect(missing).toBeInstanceOf(ProviderError);
    expect(missing.message).toMatch(/not found/);
    expect(missing.retryable).toBe(false);
  });
});
