import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Webhook endpoint secrets: generation (`whsec_` + base64 of 24 random bytes, the Standard Webhooks format) and
 * encryption at rest with AES-256-GCM (node:crypto; 12-byte random IV, 16-byte tag). Stored form:
 * `v1.<iv b64>.<tag b64>.<ciphertext b64>`. The key is Config.webhooks.secretsKey (WEBHOOK_SECRETS_KEY, base64 of
 * 32 bytes); it never leaves this module's callers.
 */
export class SecretBox {
  private readonly key: Buffer;

  /** @throws Error when the key is not 32 bytes of base64. */
  constructor(keyBase64: string) {
    this.key = Buffer.from(keyBase64, 'base64');
    if (this.key.length !== 32) throw new Error('webhook secrets key must be the base64 of 32 bytes');
  }

  /** Encrypts `plain` (UTF-8). */
  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', iv.toString('base64'), c.getAuthTag().toString('base64'), ct.toString('base64')].join('.');
  }

  /** Decrypts a {@link seal} result. @throws Error when it was tampered with or sealed with another key. */
  open(sealed: string): string {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('not a sealed webhook secret');
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    d.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]).toString('utf8');
  }
}

/** A new Standard Webhooks signing secret: `whsec_` + base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}
