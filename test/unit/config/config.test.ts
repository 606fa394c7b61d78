import { ConfigError, loadConfig } from '../../../src/config';

const PROD = {
  NODE_ENV: 'production',
  PUBLIC_BASE_URL: 'https://voice.example.com',
  DATABASE_URL: 'postgres://u@db/callcenter',
  REDIS_URL: 'redis://r:6379',
  TWILIO_ACCOUNT_SID: 'AC1',
  TWILIO_AUTH_TOKEN: 'tok',
  API_KEY: 'a-long-api-key',
  SESSION_SECRET: 'a-session-secret-of-at-least-32-chars',
  CRM_WEBHOOK_URL: 'https://crm.example.com/hook',
  CRM_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
};

/** The development defaults apply only when NODE_ENV says so (see dev-defaults.test.ts). */
const DEV = { NODE_ENV: 'development' };

describe('config', () => {
  it('works on a fresh machine with NODE_ENV=development and its defaults', () => {
    const c = loadConfig(DEV);
    expect(c.providers).toEqual({ stt: 'local', tts: 'local', llm: 'local', embeddings: 'local', vector: 'postgres', fallback: { stt: [], tts: [], llm: [] } });
    expect(c.engine.endpointingSilenceMs).toBe(800);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('recordings: local ./data/recordings by default (a temp dir under test), S3 when a bucket is set, keys both or neither', () => {
    expect(loadConfig(PROD).recordings).toEqual({ enabled: true, dir: './data/recordings', retentionDays: 90, s3: null });
    expect(loadConfig({ NODE_ENV: 'test' }).recordings.dir).toMatch(/callcenter-test-recordings$/);
    const s3 = loadConfig({ ...PROD, RECORDINGS_S3_BUCKET: 'calls', RECORDINGS_S3_ENDPOINT: 'http://127.0.0.1:9000', RECORDINGS_S3_ACCESS_KEY_ID: 'AK', RECORDINGS_S3_SECRET_ACCESS_KEY: 'SK', RECORDINGS_RETENTION_DAYS: '0' }).recordings;
    expect(s3).toMatchObject({ retentionDays: 0, s3: { bucket: 'calls', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } } });
    let err: unknown;
    try {
      loadConfig({ ...PROD, RECORDINGS_S3_BUCKET: 'calls', RECORDINGS_S3_ACCESS_KEY_ID: 'AK' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.join('\n')).toMatch(/RECORDINGS_S3_ACCESS_KEY_ID \/ RECORDINGS_S3_SECRET_ACCESS_KEY: set both or neither/);
    expect((err as ConfigError).message).not.toContain('AK');
  });

  it('picks the cloud provider when its key is present, with the others as fallbacks and local last', () => {
    const c = loadConfig({ ...DEV, OPENAI_API_KEY: 'sk-x', ELEVENLABS_API_KEY: 'xi-x', PINECONE_API_KEY: 'pc-x', PINECONE_INDEX_HOST: 'http://127.0.0.1:5081' });
    expect(c.providers).toEqual({
      stt: 'openai',
      llm: 'openai',
      tts: 'elevenlabs',
      embeddings: 'openai',
      vector: 'pinecone',
      fallback: { stt: ['local'], llm: ['local'], tts: ['openai', 'local'] },
    });
    expect(loadConfig({ ...DEV, OPENAI_API_KEY: 'sk-x' }).providers.tts).toBe('openai');
  });

  it('explicit choices win; *_FALLBACK lists or disables the chain', () => {
    const c = loadConfig({ ...DEV, OPENAI_API_KEY: 'sk-x', STT_PROVIDER: 'local', TTS_FALLBACK: 'none', LLM_FALLBACK: 'local' });
    expect(c.providers.stt).toBe('local');
    expect(c.providers.fallback).toEqual({ stt: ['openai'], tts: [], llm: ['local'] });
  });

  it('rejects a cloud provider without its key, an unknown fallback, and Pinecone without its host', () => {
    expect(() => loadConfig({ ...DEV, STT_PROVIDER: 'openai' })).toThrow(/OPENAI_API_KEY: required when STT_PROVIDER=openai/);
    expect(() => loadConfig({ ...DEV, TTS_PROVIDER: 'elevenlabs' })).toThrow(/ELEVENLABS_API_KEY/);
    expect(() => loadConfig({ ...DEV, TTS_FALLBACK: 'polly' })).toThrow(/TTS_FALLBACK: unknown provider "polly"/);
    expect(() => loadConfig({ ...DEV, PINECONE_API_KEY: 'pc-x' })).toThrow(/PINECONE_INDEX_HOST: required/);
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

  it('accounts: SESSION_SECRET is required in production; METRICS_TOKEN unset there turns /metrics off', () => {
    const { SESSION_SECRET: _omit, ...noSecret } = PROD;
    expect(() => loadConfig(noSecret)).toThrow(/SESSION_SECRET: required unless NODE_ENV=development or test/);
    expect(() => loadConfig({ ...PROD, SESSION_SECRET: 'short' })).toThrow(/SESSION_SECRET: must be at least 32 characters/);
    const prod = loadConfig(PROD);
    expect(prod.auth.metricsToken).toBeNull();
    expect(loadConfig({ ...PROD, METRICS_TOKEN: 'a-metrics-token-0123' }).auth.metricsToken).toBe('a-metrics-token-0123');
    expect(prod.auth).toMatchObject({
      sessionSecret: PROD.SESSION_SECRET,
      sessionTtlMs: 8 * 3600_000,
      apiRateLimitPerMin: 600,
      login: { maxFailuresPerAccountIp: 5, lockoutMs: 900_000, maxFailuresPerAccount: 50, maxFailuresPerIp: 100 },
    });
    const dev = loadConfig({ NODE_ENV: 'test' });
    expect(dev.auth.metricsToken).toEqual(expect.any(String));
    expect(dev.auth.sessionSecret.length).toBeGreaterThanOrEqual(32);
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
