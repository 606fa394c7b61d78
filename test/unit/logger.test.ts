import { Writable } from 'stream';
import { createLogger, isSecretKey } from '../../src/logger';
import { redactSecrets, safeErrorMessage } from '../../src/domain/redact';
import { ProviderError } from '../../src/providers/errors';

/** A logger writing into memory; `out()` is everything written so far. */
function memoryLogger(level = 'debug') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger(level, 'test', stream);
  return { logger, out: () => lines.join(''), json: () => lines.map((l) => JSON.parse(l)) };
}

const OPENAI = 'sk-live-abcdef0123456789ABCDEF';
const XI = 'sk_0f1e2d3c4b5a69788796a5b4c3d2e1f0aabbccdd';
const TWILIO_TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PINECONE = 'pcsk_5Zx9a_8QvW3LmNoPqRsTuVwXyZ0123456789';

describe('logger redaction', () => {
  it('redacts secret-named keys at any depth', () => {
    const { logger, out, json } = memoryLogger();
    logger.info({ a: { b: { apiKey: OPENAI } }, deep: { x: { y: { z: { w: { authToken: TWILIO_TOKEN, password: 'hunter2-hunter2' } } } } } }, 'nested');
    logger.info({ cfg: [{ openai: { api_key: 'plain-value-without-shape' } }, { webhookSecret: 'abc-not-shaped-123' }] }, 'arrays');
    logger.info({ client: { token: 'tok-123456', secret: 's3cr3t-value', 'xi-api-key': 'anything' } }, 'misc');
    for (const secret of [OPENAI, TWILIO_TOKEN, 'hunter2-hunter2', 'plain-value-without-shape', 'abc-not-shaped-123', 'tok-123456', 's3cr3t-value', 'anything']) {
      expect(out()).not.toContain(secret);
    }
    const [first] = json();
    expect(first.a.b.apiKey).toBe('[redacted]');
    expect(first.deep.x.y.z.w).toEqual({ authToken: '[redacted]', password: '[redacted]' });
  });

  it('redacts header objects (authorization, xi-api-key, x-twilio-signature, cookies), keeping other headers', () => {
    const { logger, out, json } = memoryLogger();
    const headers = { Authorization: `Bearer ${OPENAI}`, 'xi-api-key': XI, 'x-twilio-signature': 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', cookie: 'sid=abc123456', 'content-type': 'application/json' };
    logger.warn({ req: { headers }, upstream: { response: { headers: new Map([['a', 'b']]), config: { headers } } } }, 'request failed');
    for (const secret of [OPENAI, XI, 'RSOYDt4T1cUTdK1PDd93', 'abc123456']) expect(out()).not.toContain(secret);
    expect(json()[0].req.headers['content-type']).toBe('application/json');
  });

  it('redacts secrets inside error messages, stacks, causes and error properties, at `err` or elsewhere', () => {
    const { logger, out, json } = memoryLogger();
    const cause = new Error(`upstream said: Incorrect API key provided: ${OPENAI}`);
    const err = Object.assign(new Error(`401 Bearer ${OPENAI}`, { cause }), { request: { headers: { authorization: `Bearer ${OPENAI}` } }, url: `https://AC0123456789abcdef0123456789abcdef:${TWILIO_TOKEN}@api.twilio.com/2010-04-01` });
    logger.error({ err }, 'call failed');
    logger.error(err); // pino puts a lone error at `err` and uses its message as msg
    logger.warn({ nested: { e: new ProviderError('pinecone', `HTTP 401: bad key ${PINECONE}`, { retryable: false, status: 401 }) } }, 'x');
    logger.info(`string message with ${WHSEC} and ${OPENAI}`);
    const text = out();
    for (const secret of [OPENAI, TWILIO_TOKEN, PINECONE, WHSEC]) expect(text).not.toContain(secret);
    const [first, second] = json();
    expect(first.err.type).toBe('Error');
    expect(first.err.message).toContain('401 Bearer [redacted]');
    expect(first.err.message).toContain('upstream said'); // the cause's message, redacted
    expect(first.err.url).toBe('https://AC0123456789abcdef0123456789abcdef:[redacted]@api.twilio.com/2010-04-01'); // the SID stays
    expect(second.msg).toBe('401 Bearer [redacted]');
  });

  it('redacts child bindings and keeps ordinary fields (tokens counts, ids, booleans)', () => {
    const { logger, out, json } = memoryLogger();
    logger.child({ callSid: 'CA0123456789abcdef0123456789abcdef', apiKey: OPENAI, nested: { webhookSecret: 'not-shaped-at-all' } }).info({ tokens: 42, maxTokens: 100, signatureValid: true, streamSid: 'MZ123' }, 'turn');
    expect(out()).not.toContain(OPENAI);
    expect(out()).not.toContain('not-shaped-at-all');
    expect(json()[0]).toMatchObject({ callSid: 'CA0123456789abcdef0123456789abcdef', tokens: 42, maxTokens: 100, signatureValid: true, streamSid: 'MZ123' });
  });

  it('survives cycles', () => {
    const { logger, json } = memoryLogger();
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    logger.info({ a }, 'cyclic');
    expect(json()[0].a).toEqual({ name: 'a', self: '[Circular]' });
  });
});

describe('redactSecrets / safeErrorMessage', () => {
  it.each([
    [`Authorization: Bearer ${OPENAI}`, OPENAI],
    [`key ${XI} rejected`, XI],
    [`secret ${WHSEC}`, WHSEC],
    [`https://ACxx:${TWILIO_TOKEN}@api.twilio.com`, TWILIO_TOKEN],
    [`postgres://app:pa55word@db:5432/x`, 'pa55word'],
    [`{"api_key":"abcdefgh"}`, 'abcdefgh'],
    [`authToken=${TWILIO_TOKEN}&x=1`, TWILIO_TOKEN],
    ['HubSpot token pat-na1-11111111-2222-3333-4444-555555555555 invalid', '11111111-2222'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'dozjgNryP4J3'],
    ['Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA'],
  ])('removes the secret from %s', (text, secret) => {
    const out = redactSecrets(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  it('keeps Twilio SIDs, ids and ordinary words', () => {
    const text = 'call CA0123456789abcdef0123456789abcdef on account AC0123456789abcdef0123456789abcdef: task-scheduler risk-assessment tokens=5 max_tokens: 12';
    expect(redactSecrets(text)).toBe(text);
  });

  it('safeErrorMessage redacts and truncates to 300 characters', () => {
    const msg = safeErrorMessage(new Error(`boom ${OPENAI} ${'x'.repeat(400)}`));
    expect(msg).not.toContain(OPENAI);
    expect(msg.length).toBe(300);
    expect(safeErrorMessage('plain')).toBe('plain');
  });

  it('isSecretKey', () => {
    expect(['apiKey', 'api_key', 'xi-api-key', 'Authorization', 'authToken', 'webhookSecret', 'password', 'x-twilio-signature', 'set-cookie', 'access_token'].every(isSecretKey)).toBe(true);
    expect(['tokens', 'maxTokens', 'firstTokenMs', 'callSid', 'keyId'].some(isSecretKey)).toBe(false);
  });
});
