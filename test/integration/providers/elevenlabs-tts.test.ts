import { ProviderError } from '../../../src/providers/errors';
import { ElevenLabsTts, type ElevenLabsTtsOptions } from '../../../src/providers/tts/elevenlabs';
import type { AudioChunk } from '../../../src/providers/types';
import { startElevenLabsDouble, type ElevenLabsDouble, type ElevenLabsRequest } from '../../doubles/elevenlabs-double';

/** Contract test: the real ElevenLabs SDK, through ElevenLabsTts, against the local wire-format double. */

const KEY = 'xi-test-key-5f3c9a';
const VOICE = '21m00Tcm4TlvDq8ikWAM';

let el: ElevenLabsDouble;
beforeAll(async () => {
  el = await startElevenLabsDouble({ apiKey: KEY, chunkBytes: 800, chunkDelayMs: 2 });
});
afterAll(() => el.close());

const tts = (o: Partial<ElevenLabsTtsOptions> = {}) => new ElevenLabsTts({ apiKey: KEY, baseUrl: el.baseUrl, defaultVoiceId: VOICE, ...o });
const signal = () => new AbortController().signal;

async function collect(it: AsyncIterable<AudioChunk>): Promise<AudioChunk[]> {
  const out: AudioChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}
const concat = (chunks: AudioChunk[]) => Buffer.concat(chunks.map((c) => Buffer.from(c.data)));

/** The request the double recorded since `before` (exactly one expected). */
function onlyRequestSince(before: number): ElevenLabsRequest {
  expect(el.requests.length - before).toBe(1);
  return el.requests[before];
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`gave up waiting for ${what}`);
}

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(() => { throw new Error('expected a failure'); }, (e) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('ElevenLabsTts against the ElevenLabs double', () => {
  it('sends the documented request: path, method, ulaw_8000 query, xi-api-key, snake_case JSON body', async () => {
    const before = el.requests.length;
    await collect(tts().synthesize('Hello, how can I help?', { language: 'en', signal: signal() }));
    const r = onlyRequestSince(before);
    expect(r.method).toBe('POST');
    expect(r.path).toBe(`/v1/text-to-speech/${VOICE}/stream`);
    expect(r.query).toEqual({ output_format: 'ulaw_8000' });
    expect(r.headers['xi-api-key']).toBe(KEY);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.body).toEqual({ text: 'Hello, how can I help?', model_id: 'eleven_flash_v2_5', language_code: 'en' });
  });

  it('uses the voice chosen by the engine, the ISO 639-1 primary subtag, and the configured model/latency', async () => {
    const before = el.requests.length;
    await collect(tts({ model: 'eleven_turbo_v2_5', optimizeStreamingLatency: 3 }).synthesize('Hola', { voice: 'VoiceEs123', language: 'es-MX', signal: signal() }));
    const r = onlyRequestSince(before);
    expect(r.voiceId).toBe('VoiceEs123');
    expect(r.query).toEqual({ output_format: 'ulaw_8000', optimize_streaming_latency: '3' });
    expect(r.body).toEqual({ text: 'Hola', model_id: 'eleven_turbo_v2_5', language_code: 'es' });
  });

  it('leaves language_code out for eleven_multilingual_v2, which does not support it', async () => {
    const before = el.requests.length;
    await collect(tts({ model: 'eleven_multilingual_v2' }).synthesize('Bonjour', { language: 'fr', signal: signal() }));
    expect(onlyRequestSince(before).body).toEqual({ text: 'Bonjour', model_id: 'eleven_multilingual_v2' });
  });

  it('yields the streamed mu-law bytes unchanged, in several 8 kHz mulaw chunks', async () => {
    const before = el.requests.length;
    const chunks = await collect(tts().synthesize('Your order ships tomorrow morning.', { language: 'en', signal: signal() }));
    const r = onlyRequestSince(before);
    await until(() => r.finished, 'the double to finish the response');
    expect(r.chunks).toBeGreaterThan(1);
    expect(r.streamed.length).toBeGreaterThan(0);
    expect(concat(chunks).equals(r.streamed)).toBe(true);
    expect(r.streamed.equals(el.audioFor('Your order ships tomorrow morning.', VOICE))).toBe(true);
    for (const c of chunks) expect(c).toMatchObject({ encoding: 'mulaw', sampleRate: 8000 });
  });

  it('different text gives different audio (the double is content-dependent)', async () => {
    const a = concat(await collect(tts().synthesize('Yes, please.', { language: 'en', signal: signal() })));
    const b = concat(await collect(tts().synthesize('No, thanks.', { language: 'en', signal: signal() })));
    expect(a.equals(b)).toBe(false);
  });

  it('yields the first chunk while the double is still streaming', async () => {
    el.script({ kind: 'pause', afterChunks: 1 });
    const before = el.requests.length;
    const it = tts().synthesize('Streaming starts before synthesis ends.', { language: 'en', signal: signal() })[Symbol.asyncIterator]();
    const first = await it.next();
    const r = onlyRequestSince(before);
    expect(await el.paused()).toBe(r);
    expect(first.done).toBe(false);
    expect(r.finished).toBe(false);
    expect(r.chunks).toBe(1);
    const firstBytes = Buffer.from((first.value as AudioChunk).data);
    expect(r.streamed.subarray(0, firstBytes.length).equals(firstBytes)).toBe(true);
    el.resume();
    const rest: AudioChunk[] = [];
    for (let n = await it.next(); !n.done; n = await it.next()) rest.push(n.value);
    await until(() => r.finished, 'the double to finish the response');
    expect(r.chunks).toBeGreaterThan(1);
    expect(Buffer.concat([firstBytes, concat(rest)]).equals(r.audio)).toBe(true);
  });

  it.each([429, 500, 503])('maps HTTP %i to a retryable ProviderError with the status, without SDK retries', async (status) => {
    el.script({ kind: 'status', status });
    const before = el.requests.length;
    const err = await failure(collect(tts().synthesize('Hi', { language: 'en', signal: signal() })));
    expect(err).toMatchObject({ retryable: true, status, provider: 'elevenlabs.tts' });
    onlyRequestSince(before);
  });

  it('maps 401 (wrong key) to a non-retryable ProviderError that does not reveal the key', async () => {
    const wrongKey = 'xi-wrong-key-777';
    const err = await failure(collect(tts({ apiKey: wrongKey }).synthesize('Hi', { language: 'en', signal: signal() })));
    expect(err).toMatchObject({ retryable: false, status: 401 });
    expect(err.message).toContain('invalid_api_key');
    expect(err.message).not.toContain(wrongKey);
    expect(el.requests[el.requests.length - 1].headers['xi-api-key']).toBe(wrongKey);
  });

  it.each([400, 404, 422])('maps HTTP %i to a non-retryable ProviderError', async (status) => {
    el.script({ kind: 'status', status });
    const err = await failure(collect(tts().synthesize('Hi', { language: 'en', signal: signal() })));
    expect(err).toMatchObject({ retryable: false, status });
  });

  it('times out a request that never answers with a retryable ProviderError and closes the connection', async () => {
    el.script({ kind: 'hang' });
    const before = el.requests.length;
    const err = await failure(collect(tts({ firstByteTimeoutMs: 150 }).synthesize('Hi', { language: 'en', signal: signal() })));
    expect(err.retryable).toBe(true);
    expect(err.status).toBeUndefined();
    expect(err.message).toMatch(/timed out/);
    const r = onlyRequestSince(before);
    await until(() => r.clientClosed, 'the client to close the hanging request');
  });

  it('times out a stream that stalls after some audio, having yielded the audio received', async () => {
    el.script({ kind: 'stall', afterBytes: 1600 });
    const got: AudioChunk[] = [];
    const err = await failure((async () => { for await (const c of tts({ chunkTimeoutMs: 150 }).synthesize('A longer sentence that stalls.', { language: 'en', signal: signal() })) got.push(c); })());
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/timed out.*after 1600 bytes/);
    expect(concat(got).equals(el.requests[el.requests.length - 1].streamed)).toBe(true);
  });

  it('maps a stream cut mid-way to a retryable ProviderError after yielding the bytes received', async () => {
    el.script({ kind: 'cut', afterBytes: 2400 });
    const got: AudioChunk[] = [];
    const err = await failure((async () => { for await (const c of tts().synthesize('This answer is cut in the middle.', { language: 'en', signal: signal() })) got.push(c); })());
    expect(err.retryable).toBe(true);
    const r = el.requests[el.requests.length - 1];
    expect(r.streamed.length).toBe(2400);
    expect(r.audio.subarray(0, concat(got).length).equals(concat(got))).toBe(true);
  });

  it('maps a refused connection to a retryable ProviderError', async () => {
    const gone = await startElevenLabsDouble();
    const url = gone.baseUrl;
    await gone.close();
    const err = await failure(collect(new ElevenLabsTts({ apiKey: KEY, baseUrl: url, defaultVoiceId: VOICE, firstByteTimeoutMs: 200 }).synthesize('Hi', { language: 'en', signal: signal() })));
    expect(err.retryable).toBe(true);
    expect(err.status).toBeUndefined();
  });

  it('abort while audio is streaming rethrows the reason and cancels the HTTP request', async () => {
    el.script({ kind: 'pause', afterChunks: 1 });
    const before = el.requests.length;
    const ac = new AbortController();
    const it = tts({ chunkTimeoutMs: 60_000 }).synthesize('Barge-in interrupts this reply.', { language: 'en', signal: ac.signal })[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    await el.paused();
    const pending = it.next();
    const reason = new Error('barge-in');
    ac.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const r = onlyRequestSince(before);
    await until(() => r.clientClosed, 'the connection to close');
    expect(r.finished).toBe(false);
    el.resume();
  });

  it('abort before any audio (server hanging) rethrows the reason', async () => {
    el.script({ kind: 'hang' });
    const before = el.requests.length;
    const ac = new AbortController();
    const p = collect(tts({ firstByteTimeoutMs: 1000 }).synthesize('Hi', { language: 'en', signal: ac.signal }));
    await until(() => el.requests.length > before, 'the request to arrive');
    const reason = new Error('caller hung up');
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    await until(() => el.requests[before].clientClosed, 'the connection to close');
  });

  it('an already-aborted signal throws its reason without a request; blank text makes no request', async () => {
    const before = el.requests.length;
    const ac = new AbortController();
    const reason = new Error('already gone');
    ac.abort(reason);
    await expect(collect(tts().synthesize('Hi', { language: 'en', signal: ac.signal }))).rejects.toBe(reason);
    expect(await collect(tts().synthesize('   ', { language: 'en', signal: signal() }))).toEqual([]);
    expect(el.requests.length).toBe(before);
  });

  it('stopping the iteration early closes the HTTP stream', async () => {
    el.script({ kind: 'pause', afterChunks: 2 });
    const before = el.requests.length;
    for await (const _chunk of tts().synthesize('The consumer stops after the first chunk.', { language: 'en', signal: signal() })) break;
    const r = onlyRequestSince(before);
    await until(() => r.clientClosed, 'the connection to close');
    expect(r.finished).toBe(false);
    el.resume();
  });

  it('rejects bad configuration at construction', () => {
    expect(() => new ElevenLabsTts({ apiKey: '', defaultVoiceId: VOICE })).toThrow(/apiKey/);
    expect(() => new ElevenLabsTts({ apiKey: KEY, defaultVoiceId: '' })).toThrow(/defaultVoiceId/);
    expect(() => tts({ firstByteTimeoutMs: 0 })).toThrow(/firstByteTimeoutMs/);
    expect(() => tts({ optimizeStreamingLatency: 7 as never })).toThrow(/optimizeStreamingLatency/);
  });
});
