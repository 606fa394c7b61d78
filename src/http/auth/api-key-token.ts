import { createHash, randomBytes } from 'node:crypto';

/** Every key starts with this, so it is recognizable in configs and by secret scanners. */
export const API_KEY_PREFIX = 'cc_';
/** Characters of the key kept for display (`cc_` + 8): e.g. `cc_ab12cd34`, shown as `cc_ab12cd34…`. */
export const API_KEY_DISPLAY_CHARS = 11;
const KEY_PATTERN = /^cc_[A-Za-z0-9_-]{43}$/;

/**
 * A new API key: `cc_` + 32 random bytes (256 bits) in base64url (43 characters), its storage hash and display
 * prefix. The key is shown to its creator once and never stored.
 */
export function generateApiKey(): { key: string; keyHash: string; prefix: string } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, keyHash: hashApiKey(key), prefix: key.slice(0, API_KEY_DISPLAY_CHARS) };
}

/**
 * The stored form of a key: SHA-256 of the whole key, hex. A fast hash is right here (unlike for passwords): the
 * key carries 256 bits from a CSPRNG, so there is no dictionary to try and brute force of the hash is hopeless
 * whatever its speed; a slow hash would only cost every API request its time. Lookup by an exact hash is an
 * indexed equality, and comparing hashes (not keys) leaks nothing useful through timing.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** True when `token` has the shape of one of our keys (`cc_` + 43 base64url characters). */
export function looksLikeApiKey(token: string): boolean {
  return KEY_PATTERN.test(token);
}
