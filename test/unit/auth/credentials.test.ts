import { createHash } from 'node:crypto';
import { generateApiKey, hashApiKey, looksLikeApiKey } from '../../../src/http/auth/api-key-token';
import { hashPassword, passwordProblem, verifyAgainstDummy, verifyPassword } from '../../../src/http/auth/passwords';

describe('password policy', () => {
  it.each([
    ['short', /at least 12/],
    ['x'.repeat(257), /at most 256/],
    ['abababababababab', /5 different/],
    ['abcdefghijklmnop', /too easy/],
    ['ponmlkjihgfedcba', /too easy/],
    ['Password1234', /too easy/],
  ])('refuses %j', (pw, message) => {
    expect(passwordProblem(pw)).toMatch(message);
  });

  it('refuses the email or its local part', () => {
    expect(passwordProblem('ana.maria.lopez', 'Ana.Maria.Lopez@example.com')).toMatch(/email/);
    expect(passwordProblem('ana.maria.lopez@example.com', 'ana.maria.lopez@example.com')).toMatch(/email/);
  });

  it('accepts passphrases and random strings', () => {
    expect(passwordProblem('correct horse battery staple')).toBeNull();
    expect(passwordProblem('Tr0ub4dor&3xyz')).toBeNull();
  });
});

describe('argon2id hashing', () => {
  it('hashes with argon2id m=19456 t=2 p=1 and a random salt; verifies; never throws on a malformed hash', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(a, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(a, 'correct horse battery stapler')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
    expect(await verifyAgainstDummy('anything at all')).toBe(false);
  });
});

describe('API key tokens', () => {
  it('cc_ + 43 base64url characters (256 bits), a display prefix of 11 and the SHA-256 hex as the stored hash', () => {
    const k = generateApiKey();
    expect(k.key).toMatch(/^cc_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(k.key.slice(3), 'base64url')).toHaveLength(32);
    expect(k.prefix).toBe(k.key.slice(0, 11));
    expect(k.keyHash).toBe(createHash('sha256').update(k.key).digest('hex'));
    expect(hashApiKey(k.key)).toBe(k.keyHash);
    expect(looksLikeApiKey(k.key)).toBe(true);
    expect(looksLikeApiKey('dev-api-key')).toBe(false);
    expect(generateApiKey().key).not.toBe(k.key);
  });
});
