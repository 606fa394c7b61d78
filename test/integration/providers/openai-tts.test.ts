import { pcmToMulaw8k } from '../../../src/audio/frames';
import { ProviderError } from '../../../src/providers/errors';
import { OpenAiTts, pcm16le } from '../../../src/providers/tts/openai-tts';
import type { AudioChunk } from '../../../src/providers/types';
import { startOpenAiDouble, type OpenAiDouble } from '../../doubles/openai-double';
import { toneSpeechPcm } from '../../doubles/openai-wire';
import { rejection, deferred } from '../../helpers/async';

let openai: OpenAiDouble;

beforeAll(async () => {
  openai = await startOpenAiDouble();
});
afterAll(() => openai.close());
beforeEach(() => openai.reset());

const tts = (o: { model?: string; timeoutMs?: number; apiKey?: string } = {}) =>
  new OpenAiTts({ apiKey: o.apiKey ?? openai.apiKey, baseURL: openai.baseURL, timeoutMs: o.timeoutMs ?? 5000, model: o.model, voice: 'alloy' });
const signal = () => new AbortController().signal;

async function collect(it: AsyncIterable<AudioChunk>): Promise<{ chunks: AudioChunk[]; bytes: Uint8Array }> {
  const chunks: AudioChunk[] = [];
  for await (const c of it) chunks.push(c);
  return { chunks, bytes: Buffer.concat(chunks.map((c) => c.data)) };
}



/** The expected phone audio for 24 kHz PCM bytes: whole-signal resample to 8 kHz, mu-law. */
function expectedMulaw(pcm: Buffer): Uint8Array {
  return pcmToMulaw8k({ samples: pcm16le(pcm, null).samples, sampleRate: 24_000 });
}

describe('OpenAiTts against the OpenAI double', () => {
  it('requests pcm with model, voice and a language instruction, and streams 8 kHz mu-law', async () => {
    const text = 'Abrimos a las nueve de la mañana.';
    const { chunks, bytes } = await collect(tts().synthesize(text, { language: 'es', voices: { openai: 'coral', elevenlabs: 'x' }, signal: signal() }));

    const req = openai.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/audio/speech');
    expect(req.headers.authorization).toBe(`Bearer ${openai.apiKey}`);
    expect(req.body).toEqual({ model: 'gpt-4o-mini-tts', voice: 'coral', input: text, response_format: 'pcm', instructions: 'Speak in Spanish.' });

    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((c) => c.encoding === 'mulaw' && c.sampleRate === 8000)).toBe(true);
    const pcm = toneSpeechPcm(text);
    const inputSamples = pcm.length / 2;
    expect(bytes.length).toBe(Math.ceil(inputSamples / 3));
    // Chunked decoding with odd-sized (4801-byte) body chunks gives exactly the whole-signal conversion.
    expect(Buffer.from(bytes).equals(Buffer.from(expectedMulaw(pcm)))).toBe(true);
  });

  it('yields the first audio chunk while the server still holds the rest of the body', async () => {
    const gate = deferred();
    openai.script('speech', { kind: 'speech', chunkBytes: 2401, hold: { afterChunks: 1, until: gate.promise } });
    const it = tts().synthesize('A fairly long sentence so there is plenty of audio to stream.', { language: 'en', signal: signal() })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(first.value!.data.length).toBeGreaterThan(0);
    expect(openai.requests[0].chunksSent).toBe(1);
    expect(openai.requests[0].ended).toBe(false);
    gate.resolve();
    let total = first.value!.data.length;
    for (let r = await it.next(); !r.done; r = await it.next()) total += r.value.data.length;
    expect(openai.requests[0].ended).toBe(true);
    expect(total).toBe(Math.ceil(toneSpeechPcm('A fairly long sentence so there is plenty of audio to stream.').length / 2 / 3));
  });

  it('handles samples split across chunks at every byte boundary (1-byte chunks)', async () => {
    const pcm = toneSpeechPcm('odd').subarray(0, 2 * 1201);
    openai.script('speech', { kind: 'speech', pcm, chunkBytes: 1, chunkDelayMs: 0 });
    const { bytes } = await collect(tts().synthesize('odd', { language: 'en', signal: signal() }));
    expect(Buffer.from(bytes).equals(Buffer.from(expectedMulaw(pcm)))).toBe(true);
  });

  it('tts-1 gets no instructions; the configured voice is used without voices.openai; empty text sends nothing', async () => {
    await collect(tts({ model: 'tts-1' }).synthesize('Hello.', { language: 'en', voice: 'en-us', signal: signal() }));
    expect(openai.requests[0].body).toEqual({ model: 'tts-1', voice: 'alloy', input: 'Hello.', response_format: 'pcm' });
    expect((await collect(tts().synthesize('   ', { language: 'en', signal: signal() }))).chunks).toEqual([]);
    expect(openai.requests).toHaveLength(1);
  });

  it('429 → retryable with status; 500 → retryable; 401 → not retryable', async () => {
    openai.script('speech', { kind: 'error', status: 429, retryAfterS: 1 }, { kind: 'error', status: 503 });
    expect(await rejection(collect(tts().synthesize('Hi.', { language: 'en', signal: signal() })))).toMatchObject({ name: 'ProviderError', provider: 'openai.tts', retryable: true, status: 429 });
    expect(await rejection(collect(tts().synthesize('Hi.', { language: 'en', signal: signal() })))).toMatchObject({ retryable: true, status: 503 });
    const e = (await rejection(collect(tts({ apiKey: 'sk-wrong-tts-key-99999999' }).synthesize('Hi.', { language: 'en', signal: signal() })))) as ProviderError;
    expect(e).toMatchObject({ retryable: false, status: 401 });
    expect(e.message).not.toContain('sk-wrong-tts-key-99999999');
  });

  it('timeout before the first byte → retryable; body cut mid-way → retryable; JSON instead of audio → not retryable', async () => {
    openai.script('speech', { kind: 'hang' }, { kind: 'cut', afterChunks: 2 }, { kind: 'malformed' });
    const timeout = await rejection(collect(tts({ timeoutMs: 300 }).synthesize('Hi.', { language: 'en', signal: signal() })));
    expect(timeout).toBeInstanceOf(ProviderError);
    expect(timeout).toMatchObject({ retryable: true, status: undefined });

    const got: AudioChunk[] = [];
    const cut = await rejection((async () => { for await (const c of tts().synthesize('A sentence long enough for several chunks of audio.', { language: 'en', signal: signal() })) got.push(c); })());
    expect(got.length).toBeGreaterThan(0);
    expect(cut).toBeInstanceOf(ProviderError);
    expect(cut).toMatchObject({ retryable: true });

    const bad = await rejection(collect(tts().synthesize('Hi.', { language: 'en', signal: signal() })));
    expect(bad).toBeInstanceOf(ProviderError);
    expect(bad).toMatchObject({ retryable: false });
  });

  it('text over 4096 characters → not retryable, nothing sent', async () => {
    expect(await rejection(collect(tts().synthesize('a'.repeat(4097), { language: 'en', signal: signal() })))).toMatchObject({ name: 'ProviderError', retryable: false });
    expect(openai.requests).toHaveLength(0);
  });

  it('abort mid-body stops promptly with the signal reason and closes the connection', async () => {
    const gate = deferred();
    openai.script('speech', { kind: 'speech', hold: { afterChunks: 1, until: gate.promise } });
    const ac = new AbortController();
    const it = tts().synthesize('Please hold while I transfer you to a colleague.', { language: 'en', signal: ac.signal })[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    const pending = it.next();
    const reason = new Error('barge-in');
    ac.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    while (!openai.requests[0].clientClosed) await new Promise((r) => setTimeout(r, 5));
    expect(openai.requests[0].ended).toBe(false);
    gate.resolve();
  });

  it('stopping the iteration early cancels the body', async () => {
    const gate = deferred();
    openai.script('speech', { kind: 'speech', hold: { afterChunks: 1, until: gate.promise } });
    for await (const c of tts().synthesize('Long enough text to be cut short by the consumer.', { language: 'en', signal: signal() })) {
      expect(c.data.length).toBeGreaterThan(0);
      break;
    }
    while (!openai.requests[0].clientClosed) await new Promise((r) => setTimeout(r, 5));
    gate.resolve();
  });
});

describe('pcm16le', () => {
  it('carries an odd byte to the next chunk', () => {
    const a = pcm16le(Uint8Array.from([0x01, 0x02, 0x03]), null);
    expect(Array.from(a.samples)).toEqual([0x0201]);
    expect(a.rest).toBe(0x03);
    const b = pcm16le(Uint8Array.from([0x80, 0xff, 0x7f]), a.rest);
    expect(Array.from(b.samples)).toEqual([-32765, 0x7fff]);
    expect(b.rest).toBeNull();
  });
});
