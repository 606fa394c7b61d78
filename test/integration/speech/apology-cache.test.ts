import { ApologyCache } from '../../../src/engine/apology-cache';
import { OUTAGE_APOLOGY } from '../../../src/engine/phrases';
import { mulawDecode } from '../../../src/audio/mulaw';
import { ProviderError } from '../../../src/providers/errors';
import { LocalEspeakTts } from '../../../src/providers/tts/local-espeak';
import type { TtsProvider } from '../../../src/providers/types';

/** RMS of 8 kHz mu-law audio (0..32767). */
const rms = (b: Uint8Array) => {
  const s = mulawDecode(b);
  return Math.sqrt(s.reduce((a, x) => a + x * x, 0) / s.length);
};

describe('ApologyCache (real espeak-ng)', () => {
  let cache: ApologyCache;
  beforeAll(async () => {
    cache = await ApologyCache.build({ tts: new LocalEspeakTts(), languages: ['en', 'es', 'fr', 'de'] });
  });

  it.each(['en', 'es', 'fr', 'de'])('holds short, audible 8 kHz mu-law audio for %s', (lang) => {
    expect(cache.has(lang)).toBe(true);
    const bytes = cache.get(lang);
    const seconds = bytes.length / 8000;
    expect(seconds).toBeGreaterThan(2);
    expect(seconds).toBeLessThanOrEqual(6.5);
    expect(rms(bytes)).toBeGreaterThan(300); // speech, not silence
    expect(cache.text(lang)).toBe(OUTAGE_APOLOGY[lang]);
  });

  it('gives each language its own recording and falls back to English', () => {
    expect(Buffer.from(cache.get('es')).equals(Buffer.from(cache.get('en')))).toBe(false);
    expect(cache.get('es-MX')).toBe(cache.get('es'));
    expect(cache.has('ja')).toBe(false);
    expect(cache.get('ja')).toBe(cache.get('en'));
    expect(cache.text('ja')).toBe(OUTAGE_APOLOGY.en);
    expect(cache.languages.sort()).toEqual(['de', 'en', 'es', 'fr']);
  });
});

describe('ApologyCache with a scripted synthesizer', () => {
  const tts = (fail: (language: string) => boolean, encoding: 'mulaw' | 'pcm16' = 'mulaw'): TtsProvider => ({
    id: 'scripted.tts',
    async *synthesize(_text, o) {
      if (fail(o.language)) throw new ProviderError('scripted.tts', `no voice for ${o.language}`, { retryable: false });
      if (encoding === 'mulaw') yield { encoding, sampleRate: 8000, data: new Uint8Array(800).fill(0x10) };
      else yield { encoding, sampleRate: 16000, data: new Uint8Array(new Int16Array(1600).fill(8000).buffer) };
    },
  });

  it('leaves out a language that fails and serves English for it', async () => {
    const cache = await ApologyCache.build({ tts: tts((l) => l === 'fr') });
    expect(cache.has('fr')).toBe(false);
    expect(cache.get('fr')).toBe(cache.get('en'));
  });

  it('converts pcm16 at another rate to 8 kHz mu-law', async () => {
    const cache = await ApologyCache.build({ tts: tts(() => false, 'pcm16'), languages: ['en'] });
    expect(cache.get('en').length).toBeGreaterThanOrEqual(790);
    expect(cache.get('en').length).toBeLessThanOrEqual(810);
  });

  it('fails to build without an English apology', async () => {
    await expect(ApologyCache.build({ tts: tts((l) => l === 'en') })).rejects.toThrow('no voice for en');
  });
});
