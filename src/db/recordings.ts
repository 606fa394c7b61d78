import type { Knex } from 'knex';

/** A stored call recording (`recordings` row). */
export interface Recording {
  callSid: string;
  /** `local` (a file under RECORDINGS_DIR) or `s3` (an object of RECORDINGS_S3_BUCKET). */
  storage: 'local' | 's3';
  /** Path relative to RECORDINGS_DIR, or the object key. */
  key: string;
  durationMs: number;
  /** Size of the WAV file (header included). */
  bytes: number;
  channels: number;
  /** ISO 8601. */
  createdAt: string;
}

const toRecording = (r: Record<string, any>): Recording => ({
  callSid: r.call_sid,
  storage: r.storage,
  key: r.key,
  durationMs: r.duration_ms,
  bytes: Number(r.bytes),
  channels: r.channels,
  createdAt: new Date(r.created_at).toISOString(),
});

/** Repository of the `recordings` table (one row per call at most). */
export class RecordingsRepo {
  constructor(private readonly db: Knex) {}

  /** Stores a recording's row; a second one for the same call replaces the first. */
  async add(r: Omit<Recording, 'createdAt'>): Promise<Recording> {
    const row = { call_sid: r.callSid, storage: r.storage, key: r.key, duration_ms: r.durationMs, bytes: r.bytes, channels: r.channels };
    const [out] = await this.db('recordings').insert(row).onConflict('call_sid').merge({ ...row, created_at: this.db.fn.now() }).returning('*');
    return toRecording(out);
  }

  /** The recording of a call, or null. */
  async get(callSid: string): Promise<Recording | null> {
    const r = await this.db('recordings').where({ call_sid: callSid }).first();
    return r ? toRecording(r) : null;
  }

  /** Up to `limit` recordings created before `before`, oldest first. */
  async olderThan(before: Date, limit: number): Promise<Recording[]> {
    const rows = await this.db('recordings').where('created_at', '<', before).orderBy('created_at').limit(limit);
    return rows.map(toRecording);
  }

  /** Deletes a call's row; false when there was none. */
  async delete(callSid: string): Promise<boolean> {
    return (await this.db('recordings').where({ call_sid: callSid }).delete()) > 0;
  }
}
