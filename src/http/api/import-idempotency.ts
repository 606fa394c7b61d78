import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { ImportResult } from '../../campaigns/contact-import';
import { ApiError } from './route';

/** SHA-256 (hex) of a JSON value with object keys sorted: equal bodies hash equal. */
function bodyHash(body: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canon(body))).digest('hex');
}

/**
 * Runs a JSON contact import at most once per (campaign, `Idempotency-Key`) (draft-ietf-httpapi-idempotency-key-header):
 * `run` gets a `beforeCommit` hook that writes the key, the body's hash and the result in the import's own
 * transaction (`contact_import_keys`), so a key is stored iff its import committed. A repeat with the same body
 * answers the stored result without importing; another body under the key → ApiError 422; a concurrent first
 * request with the key (unique violation on commit) → the winner's result.
 */
export async function importOnce(
  db: Knex,
  campaignId: string,
  key: string,
  body: unknown,
  run: (beforeCommit: (trx: Knex.Transaction, r: ImportResult) => Promise<void>) => Promise<ImportResult>,
): Promise<ImportResult> {
  const hash = bodyHash(body);
  const replay = async (): Promise<ImportResult | null> => {
    const row = await db('contact_import_keys').where({ campaign_id: campaignId, idempotency_key: key }).first();
    if (!row) return null;
    if (row.request_hash !== hash) throw new ApiError(422, 'this Idempotency-Key was used with a different request body; use a new key');
    return row.result as ImportResult;
  };
  const earlier = await replay();
  if (earlier) return earlier;
  try {
    return await run(async (trx, r) => {
      await trx('contact_import_keys').insert({ campaign_id: campaignId, idempotency_key: key, request_hash: hash, result: JSON.stringify(r) });
    });
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      const won = await replay();
      if (won) return won;
    }
    throw err;
  }
}
