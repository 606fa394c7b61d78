import { ConfigError, loadConfig } from '../../../src/config';

const PROD = {
  NODE_ENV: 'production',
  PUBLIC_BASE_URL: 'https://voice.example.com',
  DATABASE_URL: 'postgres://u@db/callcenter',
  REDIS_URL: 'redis://r:6379',
  TWILIO_ACCOUNT_SID: 'AC1',
  TWILIO_AUTH_TOKEN: 'tok',
  API_KEY: 'a-long-api-key',
  CRM_WEBHOOK_URL: 'https://crm.example.com/hook',
  CRM_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
};

describe('config', () => {
  it('works on a fresh machine outside production with development defaults', () => {
    const c = loadConfig({});
    expect(c.providers).toEqual({ stt: 'local', tts: 'local', llm: 'local', embeddings: 'local', vector: 'postgres' });
    expect(c.engine.endpointingSilenceMs).toBe(800);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('accepts a complete production environment', () => {
    const c = loadConfig(PROD);
    expect(c.publicBaseUrl).toBe('https://voice.example.com');
    expect(c.trustProxyHops).toBe(0);
  });

  it('lists every missing production secret without echoing values', () => {
    try {
      loadConfig({ NODE_ENV: 'production', API_KEY: 'super-secret-value' });
      throw new Error('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      for (const v of ['PUBLIC_BASE_URL', 'DATABASE_URL', 'REDIS_URL', 'TWILIO_AUTH_TOKEN']) expect(msg).toContain(v);
      expect(msg).not.toContain('super-secret-value');
    }
  });

  it.each([
    ['a path in PUBLIC_BASE_URL', { PUBLIC_BASE_URL: 'https://voice.example.com/app' }, /bare origin/],
    ['http in production', { PUBLIC_BASE_URL: 'http://voice.example.com' }, /https/],
    ['a CRM secret without whsec_', { CRM_WEBHOOK_SECRET: 'plain' }, /whsec_/],
    ['an unknown provider', { STT_PROVIDER: 'magic' }, /STT_PROVIDER/],
  ])('rejects %s', (_n, patch, message) => {
    expect(() => loadConfig({ ...PROD, ...patch })).toThrow(message);
  });
});
