import { ConfigError, DEV_DEFAULTS, loadConfig } from '../../../src/config';

/** A complete production environment (no NODE_ENV: set per test). */
const COMPLETE = {
  PUBLIC_BASE_URL: 'https://voice.example.com',
  DATABASE_URL: 'postgres://u@db/callcenter',
  REDIS_URL: 'redis://r:6379',
  TWILIO_ACCOUNT_SID: 'AC1',
  TWILIO_AUTH_TOKEN: 'tok-from-the-vault',
  API_KEY: 'a-long-api-key-from-the-vault',
  CRM_WEBHOOK_URL: 'https://crm.example.com/hook',
  CRM_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  SESSION_SECRET: 'a-session-secret-from-the-vault-0123456789',
};
/**
 * Every value with a development default; METRICS_TOKEN (unset: /metrics is off), WEBHOOK_SECRETS_KEY (unset:
 * webhook endpoints are unavailable) and CRM_CREDENTIALS_KEY (unset: native CRM connectors are unavailable) are
 * optional in production.
 */
const ALL_KEYS = Object.keys(DEV_DEFAULTS) as Array<keyof typeof DEV_DEFAULTS>;
const OPTIONAL_IN_PRODUCTION = ['METRICS_TOKEN', 'WEBHOOK_SECRETS_KEY', 'CRM_CREDENTIALS_KEY'];
const KEYS = ALL_KEYS.filter((k) => !OPTIONAL_IN_PRODUCTION.includes(k));

/** The ConfigError's issues of `env` (fails the test when it does not throw). */
function issuesOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('loadConfig accepted the environment');
}

const without = (key: string) => Object.fromEntries(Object.entries(COMPLETE).filter(([k]) => k !== key));

describe('development defaults need NODE_ENV=development or test', () => {
  it('unset NODE_ENV counts as production: a bare environment is refused, naming every missing secret and URL', () => {
    // The CRM secret is required only with a CRM URL.
    const issues = issuesOf({ CRM_WEBHOOK_URL: COMPLETE.CRM_WEBHOOK_URL });
    for (const key of KEYS) expect(issues).toContain(`${key}: required unless NODE_ENV=development or test (unset NODE_ENV means production)`);
  });

  it.each(KEYS)('unset NODE_ENV never falls back to the well-known %s', (key) => {
    const issues = issuesOf(without(key));
    expect(issues.filter((i) => i.startsWith(`${key}:`))).toHaveLength(1);
  });

  it('unset NODE_ENV with every variable given runs as production with exactly the given secrets', () => {
    const c = loadConfig(COMPLETE);
    expect(c.env).toBe('production');
    expect(c.apiKey).toBe(COMPLETE.API_KEY);
    expect(c.twilio.authToken).toBe(COMPLETE.TWILIO_AUTH_TOKEN);
    expect(c.crm.webhookSecret).toBe(COMPLETE.CRM_WEBHOOK_SECRET);
  });

  it('unset NODE_ENV without CRM_CREDENTIALS_KEY has no connector key rather than the well-known one', () => {
    expect(loadConfig(COMPLETE).crm.credentialsKey).toBeNull();
    expect(loadConfig({ NODE_ENV: 'test' }).crm.credentialsKey).toBe(DEV_DEFAULTS.CRM_CREDENTIALS_KEY);
  });

  it('unset NODE_ENV without METRICS_TOKEN serves no metrics rather than accept the well-known token', () => {
    expect(loadConfig(COMPLETE).auth.metricsToken).toBeNull();
  });

  it('unset NODE_ENV without a CRM URL needs no CRM secret and invents none', () => {
    const c = loadConfig({ ...without('CRM_WEBHOOK_URL'), CRM_WEBHOOK_SECRET: '' });
    expect(c.crm).toMatchObject({ webhookUrl: undefined, webhookSecret: undefined });
  });

  it.each(['development', 'test'])('NODE_ENV=%s fills every missing value with its development default', (env) => {
    const c = loadConfig({ NODE_ENV: env });
    expect(c.env).toBe(env);
    const serialized = JSON.stringify(c);
    for (const key of ALL_KEYS) expect(serialized).toContain(DEV_DEFAULTS[key]);
    expect(c.apiKey).toBe(DEV_DEFAULTS.API_KEY);
  });

  it('NODE_ENV=production lists every missing secret and URL at once, without echoing the values given', () => {
    const issues = issuesOf({ NODE_ENV: 'production', CRM_WEBHOOK_URL: COMPLETE.CRM_WEBHOOK_URL, TWILIO_ACCOUNT_SID: 'AC-given-sid' });
    const named = new Set(issues.map((i) => i.slice(0, i.indexOf(':'))));
    expect([...named].sort()).toEqual(KEYS.filter((k) => k !== 'TWILIO_ACCOUNT_SID').sort());
    expect(issues.join('\n')).not.toContain('AC-given-sid');
  });

  it('production without WEBHOOK_SECRETS_KEY starts with webhooks off, never with the development key', () => {
    expect(loadConfig({ NODE_ENV: 'production', ...COMPLETE }).webhooks.secretsKey).toBeNull();
    expect(loadConfig({ NODE_ENV: 'test' }).webhooks.secretsKey).toBe(DEV_DEFAULTS.WEBHOOK_SECRETS_KEY);
  });
});
