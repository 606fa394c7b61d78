import { phoneAudio } from '../speech/fixtures';
import { parseWav } from '../../../src/audio/wav';
import { ProviderError } from '../../../src/providers/errors';
import { OpenAiWhisperStt } from '../../../src/providers/stt/openai-whisper';
import { whisperLanguageToIso6391, WHISPER_LANGUAGE_CODES } from '../../../src/providers/stt/whisper-languages';
import { startOpenAiDouble, type OpenAiDouble } from '../../doubles/openai-double';

let openai: OpenAiDouble;
const audio = phoneAudio('librivox-0880');
const signal = () => new AbortController().signal;

beforeAll(async () => {
  openai = await startOpenAiDouble();
});
afterAll(() => openai.close());
beforeEach(() => openai.reset());

const stt = (o: { model?: string; timeoutMs?: number; apiKey?: string } = {}) =>
  new OpenAiWhisperStt({ apiKey: o.apiKey ?? openai.apiKey, baseURL: openai.baseURL, timeoutMs: o.timeoutMs ?? 5000, model: o.model });

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('OpenAiWhisperStt against the OpenAI double', () => {
  it('sends the utterance as a WAV file in multipart/form-data with model, verbose_json and the language hint', async () => {
    openai.script('transcriptions', {
      kind: 'transcription',
      text: ' Hola, quisiera saber el horario. ',
      language: 'spanish',
      segments: [
        { text: 'Hola,', avg_logprob: -0.2 },
        { text: 'quisiera saber el horario.', avg_logprob: -0.4 },
      ],
    });
    const t = await stt().transcribe(audio, { languageHint: 'es-MX', signal: signal() });

    expect(t.text).toBe('Hola, quisiera saber el horario.');
    expect(t.language).toBe('es');
    expect(t.confidence).toBeCloseTo(Math.exp(-0.3), 6);

    expect(openai.requests).toHaveLength(1);
    const req = openai.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/audio/transcriptions');
    expect(req.headers.authorization).toBe(`Bearer ${openai.apiKey}`);
    expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.multipart!.fields).toEqual({ model: 'whisper-1', response_format: 'verbose_json', language: 'es' });
    expect(req.multipart!.files).toHaveLength(1);
    const file = req.multipart!.files[0];
    expect(file.field).toBe('file');
    expect(file.filename).toBe('utterance.wav');
    expect(file.mimeType).toBe('audio/wav');
    expect(file.data.toString('ascii', 0, 4)).toBe('RIFF');
    expect(file.data.toString('ascii', 8, 12)).toBe('WAVE');
    const sent = parseWav(file.data);
    expect(sent.sampleRate).toBe(8000);
    expect(Buffer.from(sent.samples.buffer).equals(Buffer.from(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength))).toBe(true);
  });

  it('gpt-4o-mini-transcribe asks for json only and reports no language or confidence', async () => {
    openai.script('transcriptions', { kind: 'transcription', text: 'I would like to check my order.' });
    const t = await stt({ model: 'gpt-4o-mini-transcribe' }).transcribe(audio, { signal: signal() });
    expect(t).toEqual({ text: 'I would like to check my order.' });
    expect(openai.requests[0].multipart!.fields).toEqual({ model: 'gpt-4o-mini-transcribe', response_format: 'json' });
  });

  it('whisper-1 without a hint maps the detected language; no `language` field is sent', async () => {
    const t = await stt().transcribe(audio, { signal: signal() });
    expect(t.language).toBe('en');
    expect(t.text).toBe('Hello from the OpenAI double.');
    expect(openai.requests[0].multipart!.fields).not.toHaveProperty('language');
  });

  it('does not send audio shorter than 0.1 s (the API rejects it)', async () => {
    const t = await stt().transcribe({ samples: new Int16Array(400), sampleRate: 8000 }, { signal: signal() });
    expect(t).toEqual({ text: '' });
    expect(openai.requests).toHaveLength(0);
  });

  it('429 → retryable ProviderError with status 429', async () => {
    openai.script('transcriptions', { kind: 'error', status: 429, retryAfterS: 2 });
    const e = await rejection(stt().transcribe(audio, { signal: signal() }));
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ provider: 'openai.stt', retryable: true, status: 429 });
    expect(openai.requests).toHaveLength(1); // the SDK did not retry on its own
  });

  it('500 → retryable; 400 → not retryable', async () => {
    openai.script('transcriptions', { kind: 'error', status: 500 }, { kind: 'error', status: 400, message: 'bad audio' });
    expect(await rejection(stt().transcribe(audio, { signal: signal() }))).toMatchObject({ retryable: true, status: 500 });
    expect(await rejection(stt().transcribe(audio, { signal: signal() }))).toMatchObject({ retryable: false, status: 400 });
  });

  it('401 (wrong key) → not retryable, and the key is not in the message', async () => {
    const wrongKey = 'sk-wrong-key-1234567890abcdefXYZ';
    const e = (await rejection(stt({ apiKey: wrongKey }).transcribe(audio, { signal: signal() }))) as ProviderError;
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: false, status: 401 });
    expect(e.message).not.toContain(wrongKey);
    expect(e.message).not.toContain('XYZ');
    expect(openai.requests[0].authorized).toBe(false);
  });

  it('a server that hangs → retryable ProviderError once the client timeout fires', async () => {
    openai.script('transcriptions', { kind: 'hang' });
    const e = await rejection(stt({ timeoutMs: 300 }).transcribe(audio, { signal: signal() }));
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: true, status: undefined });
    // Plain Node reports "request timed out"; under Jest the SDK sees undici's AbortError from another realm
    // (vm context) and reports a generic connection error. Both are retryable without a status.
    expect((e as Error).message).toMatch(/timed out|connection error/);
  });

  it('a malformed body → ProviderError (not retryable)', async () => {
    openai.script('transcriptions', { kind: 'malformed' });
    const e = await rejection(stt().transcribe(audio, { signal: signal() }));
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: false });
    openai.script('transcriptions', { kind: 'raw', headers: { 'content-type': 'application/json' }, body: '{"transcript": "wrong field"}' });
    expect(await rejection(stt().transcribe(audio, { signal: signal() }))).toMatchObject({ retryable: false, message: expect.stringMatching(/malformed/) });
  });

  it('a connection cut mid-body → retryable ProviderError', async () => {
    openai.script('transcriptions', { kind: 'cut' });
    const e = await rejection(stt().transcribe(audio, { signal: signal() }));
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: true });
  });

  it('abort stops the request and rejects with the signal reason', async () => {
    openai.script('transcriptions', { kind: 'hang' });
    const ac = new AbortController();
    const p = rejection(stt({ timeoutMs: 60_000 }).transcribe(audio, { signal: ac.signal }));
    await until(() => openai.requests.length === 1);
    const reason = new Error('caller hung up');
    ac.abort(reason);
    expect(await p).toBe(reason);
    await until(() => openai.requests[0].clientClosed);
  });
});

describe('whisperLanguageToIso6391', () => {
  it('maps Whisper language names and aliases (any case) to ISO 639-1', () => {
    expect(whisperLanguageToIso6391('spanish')).toBe('es');
    expect(whisperLanguageToIso6391('Spanish')).toBe('es');
    expect(whisperLanguageToIso6391('haitian creole')).toBe('ht');
    expect(whisperLanguageToIso6391('castilian')).toBe('es');
    expect(whisperLanguageToIso6391('javanese')).toBe('jv');
    expect(whisperLanguageToIso6391('cantonese')).toBe('zh');
  });
  it('accepts ISO codes from compatible servers and rejects unknown names', () => {
    expect(whisperLanguageToIso6391('fr')).toBe('fr');
    expect(whisperLanguageToIso6391('pt-BR')).toBe('pt');
    expect(whisperLanguageToIso6391('jw')).toBe('jv');
    expect(whisperLanguageToIso6391('hawaiian')).toBeUndefined();
    expect(whisperLanguageToIso6391('klingon')).toBeUndefined();
    expect(whisperLanguageToIso6391('')).toBeUndefined();
  });
  it('covers all of Whisper’s languages with two-letter codes', () => {
    const codes = Object.values(WHISPER_LANGUAGE_CODES);
    expect(new Set(codes).size).toBeGreaterThanOrEqual(97);
    expect(codes.every((c) => /^[a-z]{2}$/.test(c))).toBe(true);
  });
});
