import type { Knex } from 'knex';
import { TERMINAL_STATUSES, type TransferRecord, type TurnInput, type TurnRow, type TurnTimings } from '../domain/calls';
import type { CallStore } from '../domain/ports';
import { billedMinutes, type UsageRecord } from '../domain/usage';
import { UsageRepo, type UsageLine } from './usage';
import { emitWebhookEvent } from './webhook-outbox';
import { analysisOfRow, type StoredAnalysis } from './call-analysis';
import { applyCallFilters, type CallFilters, type CallListRow, type TranscriptLine } from './call-search';
export type { CallFilters, CallListRow, TranscriptLine } from './call-search';

/** A keyset position in the call list: started_at with microseconds (UTC ISO) and the callSid tie-breaker. */
export interface CallCursor {
  startedAt: string;
  callSid: string;
}

export interface CallRow {
  callSid: string;
  accountSid: string | null;
  agentId: string;
  direction: string;
  from: string;
  to: string;
  status: string;
  streamSid: string | null;
  language: string | null;
  intent: string | null;
  startedAt: Date;
  endedAt: Date | null;
  postCallEnqueuedAt: Date | null;
}

/** A call's own fields as the API and the CRM webhook show them (timestamps as ISO 8601 strings). */
export interface CallFields {
  callSid: string;
  direction: string;
  from: string;
  to: string;
  status: string;
  language: string | null;
  intent: string | null;
  startedAt: string;
  endedAt: string | null;
}

/** {@link CallFields} of a call row. */
export function callFields(c: CallRow): CallFields {
  return {
    callSid: c.callSid,
    direction: c.direction,
    from: c.from,
    to: c.to,
    status: c.status,
    language: c.language,
    intent: c.intent,
    startedAt: new Date(c.startedAt).toISOString(),
    endedAt: c.endedAt ? new Date(c.endedAt).toISOString() : null,
  };
}

/**
 * The shape `GET /api/calls/:callSid` returns and `call.completed` carries: the call, its turns (with `interrupted`
 * — an agent turn the caller cut, `text` being what they heard and `unheardText` the rest of the reply the agent had
 * then, or null — and the reply's stage timings in ms), CSAT with its formula components, CRM sync state, and the
 * call's events (status callbacks, barge-ins, transfers…), oldest first.
 */
export interface CallDetail extends CallFields {
  turns: Array<{ role: 'caller' | 'agent'; text: string; language: string | null; startMs: number; endMs: number; interrupted: boolean; unheardText: string | null; timings: TurnTimings | null }>;
  /** `statedScore`: the caller's own score from the end-of-call survey (1..5), null when none. */
  csat: { score: number; method: string; components: Record<string, number> | null; statedScore?: number | null } | null;
  crmSync: { status: string; attempts: number };
  /** What the call consumed per provider and its estimated cost (USD). */
  usage: { lines: UsageLine[]; costUsd: number };
  /** `GET /api/calls/{callSid}/recording` when the call has a stored recording, else null (not ready yet, or none). */
  recordingUrl: string | null;
  events: Array<{ type: string; at: string; payload: Record<string, unknown> }>;
  /** Post-call analysis (summary, disposition, extracted fields, method, analyzedAt), or null until the `analysis` step ran. */
  analysis: StoredAnalysis | null;
}

const toCall = (r: Record<string, any>): CallRow => ({
  callSid: r.call_sid,
  accountSid: r.account_sid,
  agentId: r.agent_id,
  direction: r.direction,
  from: r.from_number,
  to: r.to_number,
  status: r.status,
  streamSid: r.stream_sid,
  language: r.language,
  intent: r.intent,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  postCallEnqueuedAt: r.post_call_enqueued_at,
});

/** Writes the `call.ended` webhook event of an ended call row (once per call: dedupe key `call.ended:<callSid>`). */
async function emitCallEnded(trx: Knex.Transaction, r: Record<string, any>): Promise<void> {
  const c = toCall(r);
  await emitWebhookEvent(trx, {
    type: 'call.ended',
    subject: { kind: 'call', id: c.callSid },
    data: { callSid: c.callSid, direction: c.direction, from: c.from, to: c.to, status: c.status, endedAt: c.endedAt ? new Date(c.endedAt).toISOString() : null },
    dedupeKey: `call.ended:${c.callSid}`,
  });
}

/**
 * Repository for calls, call turns and call events. All methods are single statements or one transaction.
 */
export class CallsRepo implements CallStore {
  /** `usage`: where call usage is written, with the server's price table (default: list prices). */
  constructor(
    private readonly db: Knex,
    readonly usage: UsageRepo = new UsageRepo(db),
  ) {}

  /** Stores what the call's providers consumed (see {@link UsageRepo.record}). */
  async addUsage(callSid: string, records: UsageRecord[]): Promise<void> {
    await this.usage.record(callSid, records);
  }

  /** Inserts the call row when Twilio's voice webhook arrives; a retried webhook for the same CallSid is a no-op. */
  async create(c: { callSid: string; accountSid?: string; agentId: string; direction: string; from: string; to: string; status: string }): Promise<void> {
    await this.db('calls')
      .insert({
        call_sid: c.callSid,
        account_sid: c.accountSid ?? null,
        agent_id: c.agentId,
        direction: c.direction,
        from_number: c.from,
        to_number: c.to,
        status: c.status,
      })
      .onConflict('call_sid')
      .ignore();
  }

  /** One call row, or null when unknown. */
  async get(callSid: string): Promise<CallRow | null> {
    const r = await this.db('calls').where({ call_sid: callSid }).first();
    return r ? toCall(r) : null;
  }

  /**
   * Attaches the media stream to the call, atomically and once: a call that already has a stream, has ended or has
   * a terminal status cannot be attached again (a replayed upgrade cannot hijack or reopen a call).
   * Writes the `call.started` webhook event in the same transaction.
   * @returns false when the call is unknown or not attachable.
   */
  async attachStream(callSid: string, streamSid: string): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const [r] = await trx('calls')
        .where({ call_sid: callSid })
        .whereNull('stream_sid')
        .whereNull('ended_at')
        .whereNotIn('status', [...TERMINAL_STATUSES])
        .update({ stream_sid: streamSid, status: 'in-progress', updated_at: trx.fn.now() })
        .returning('*');
      if (!r) return false;
      const c = toCall(r);
      await emitWebhookEvent(trx, {
        type: 'call.started',
        subject: { kind: 'call', id: callSid },
        data: { callSid, direction: c.direction, from: c.from, to: c.to, agentId: c.agentId, campaignId: r.campaign_id ?? null, startedAt: new Date(c.startedAt).toISOString() },
        dedupeKey: `call.started:${callSid}`,
      });
      return true;
    });
  }

  /**
   * Applies a Twilio status callback. Callbacks may arrive out of order (SequenceNumber from 0), so a lower
   * sequence number than the one stored is recorded as an event but does not change the status; neither does a
   * non-terminal status once the call reached a terminal one (e.g. `completed` set when the stream stopped).
   * A terminal callback's `CallDuration` (seconds, PROTOCOLS.md "Twilio REST") is stored in the same transaction as the
   * call's telephony usage: provider `twilio`, `telephony_inbound` or `telephony_outbound` by the call's direction,
   * in billed minutes (per started minute); browser (`web`) calls use no telephony.
   * @returns false when the call is unknown.
   */
  async applyStatus(callSid: string, status: string, sequence: number | null, payload: Record<string, unknown>): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const row = await trx('calls').where({ call_sid: callSid }).forUpdate().first();
      if (!row) return false;
      await trx('call_events').insert({ call_sid: callSid, type: 'twilio.status', payload });
      const duration = Number(payload.CallDuration);
      if ((TERMINAL_STATUSES as readonly string[]).includes(status) && Number.isFinite(duration) && row.direction !== 'web') {
        const kind = row.direction === 'inbound' ? 'telephony_inbound' : 'telephony_outbound';
        await this.usage.record(callSid, [{ provider: 'twilio', kind, quantity: billedMinutes(duration) }], trx);
      }
      const seq = sequence ?? row.status_sequence + 1;
      const terminal = (TERMINAL_STATUSES as readonly string[]).includes(status);
      const wasTerminal = (TERMINAL_STATUSES as readonly string[]).includes(row.status);
      // A terminal status is final: a late non-terminal callback is recorded above but changes nothing.
      if (seq >= row.status_sequence && (terminal || !wasTerminal)) {
        const [r] = await trx('calls')
          .where({ call_sid: callSid })
          .update({
            status,
            status_sequence: seq,
            ended_at: terminal ? (row.ended_at ?? trx.fn.now()) : row.ended_at,
            updated_at: trx.fn.now(),
          })
          .returning('*');
        if (terminal) await emitCallEnded(trx, r);
      }
      return true;
    });
  }

  /** Appends a call event (`type` like `barge_in`, `provider.error`; `payload` JSON without secrets or audio). */
  async addEvent(callSid: string, type: string, payload: Record<string, unknown> = {}): Promise<void> {
    await this.db('call_events').insert({ call_sid: callSid, type, payload });
  }

  /** The call's events, oldest first. */
  async events(callSid: string): Promise<Array<{ type: string; payload: Record<string, unknown>; at: Date }>> {
    return this.db('call_events').where({ call_sid: callSid }).orderBy('id').select('type', 'payload', 'at');
  }

  /** Appends a turn; `seq` is assigned in order of insertion per call. */
  async addTurn(callSid: string, t: TurnInput): Promise<number> {
    const [{ seq }] = await this.db('call_turns')
      .insert({
        call_sid: callSid,
        seq: this.db.raw('(SELECT COALESCE(MAX(seq), 0) + 1 FROM call_turns WHERE call_sid = ?)', [callSid]),
        role: t.role,
        text: t.text,
        language: t.language,
        start_ms: Math.round(t.startMs),
        end_ms: Math.round(t.endMs),
        intent: t.intent ?? null,
        stt_confidence: t.sttConfidence ?? null,
        interrupted: t.interrupted ?? false,
        unheard_text: t.role === 'agent' && t.unheardText ? t.unheardText : null,
        not_understood: t.understood === false,
        timings: t.timings ? JSON.stringify(t.timings) : null,
      })
      .returning('seq');
    return seq;
  }

  /** The call's turns ordered by `seq` (times in ms since the stream started). */
  async turns(callSid: string): Promise<TurnRow[]> {
    const rows = await this.db('call_turns').where({ call_sid: callSid }).orderBy('seq');
    return rows.map((r) => ({
      seq: r.seq,
      role: r.role,
      text: r.text,
      language: r.language,
      startMs: r.start_ms,
      endMs: r.end_ms,
      intent: r.intent,
      sttConfidence: r.stt_confidence,
      interrupted: r.interrupted,
      ...(r.unheard_text ? { unheardText: r.unheard_text } : {}),
      ...(r.not_understood ? { understood: false } : {}),
      timings: r.timings,
    }));
  }

  /**
   * Ends the call from the media side (stream `stop`): sets the dominant language and intent, `ended_at`, and a
   * `completed` status unless a status callback already set a terminal one. Writes `call.ended` (once per call,
   * whichever of this and a terminal status callback comes first) in the same transaction.
   */
  async finish(callSid: string, f: { language: string | null; intent: string | null }): Promise<void> {
    await this.db.transaction(async (trx) => {
      const [r] = await trx('calls')
        .where({ call_sid: callSid })
        .update({
          language: f.language,
          intent: f.intent,
          ended_at: trx.raw('COALESCE(ended_at, now())'),
          status: trx.raw(`CASE WHEN status IN (${TERMINAL_STATUSES.map(() => '?').join(',')}) THEN status ELSE 'completed' END`, [...TERMINAL_STATUSES]),
          updated_at: trx.fn.now(),
        })
        .returning('*');
      if (r) await emitCallEnded(trx, r);
    });
  }

  /** Stores the warm transfer of a live call (target, reason, summary, time) and writes `call.transferred` in the same transaction. */
  async setTransfer(callSid: string, t: TransferRecord): Promise<void> {
    await this.db.transaction(async (trx) => {
      const n = await trx('calls').where({ call_sid: callSid }).update({ transfer: JSON.stringify(t), end_reason: 'transfer', updated_at: trx.fn.now() });
      if (n) await emitWebhookEvent(trx, { type: 'call.transferred', subject: { kind: 'call', id: callSid }, data: { callSid, target: t.target, reason: t.reason, summary: t.summary, at: t.at }, dedupeKey: `call.transferred:${callSid}` });
    });
  }

  /** Why the agent ended the call (`silence`, `max_duration`, `dtmf`, an LLM reason …), unless already set. */
  async setEndReason(callSid: string, reason: string): Promise<void> {
    await this.db('calls').where({ call_sid: callSid }).whereNull('end_reason').update({ end_reason: reason.slice(0, 48), updated_at: this.db.fn.now() });
  }

  /** The stored transfer and end reason of a call (null when none). */
  async control(callSid: string): Promise<{ transfer: { target: string; reason: string; summary: string; at: string } | null; endReason: string | null } | null> {
    const r = await this.db('calls').where({ call_sid: callSid }).first('transfer', 'end_reason');
    return r ? { transfer: r.transfer ?? null, endReason: r.end_reason ?? null } : null;
  }

  /** Records that the call's post-call jobs are in the queue (the sweeper skips it from then on). */
  async markPostCallEnqueued(callSid: string): Promise<void> {
    await this.db('calls').where({ call_sid: callSid }).update({ post_call_enqueued_at: this.db.fn.now() });
  }

  /** Ended calls whose post-call jobs were never enqueued (for the sweeper), oldest first. */
  async pendingPostCall(limit = 100, olderThanMs = 5_000): Promise<string[]> {
    const rows = await this.db('calls')
      .whereNull('post_call_enqueued_at')
      .whereNotNull('ended_at')
      .where('ended_at', '<', this.db.raw(`now() - (? * interval '1 millisecond')`, [olderThanMs]))
      .orderBy('ended_at')
      .limit(limit)
      .select('call_sid');
    return rows.map((r) => r.call_sid);
  }

  /**
   * Newest first (started_at desc, call_sid desc). `before` (ISO 8601) keeps calls that started earlier; `after` is
   * a keyset position from {@link encodeCallCursor}: only calls strictly after it in this order are returned, so
   * paging never skips or repeats a call, even when several start in the same millisecond.
   */
  async list(o: { limit: number; before?: string; after?: CallCursor }): Promise<Array<CallRow & { cursor: CallCursor }>> {
    const q = this.db('calls')
      .select('*', this.db.raw(`to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at_exact`))
      .orderBy('started_at', 'desc')
      .orderBy('call_sid', 'desc')
      .limit(o.limit);
    if (o.before) q.where('started_at', '<', o.before);
    if (o.after) q.whereRaw('(started_at, call_sid) < (?::timestamptz, ?)', [o.after.startedAt, o.after.callSid]);
    return (await q).map((r) => ({ ...toCall(r), cursor: { startedAt: r.started_at_exact, callSid: r.call_sid } }));
  }

  /**
   * One page of calls matching `filters` (see {@link CallFilters}), newest first (started_at desc, call_sid desc;
   * index `calls_started_at_call_sid`), each with its CSAT score, end reason, transfer and number of turns. `after`
   * is a keyset position as in {@link list}: only calls strictly after it, so pages never skip or repeat a call.
   * At most `limit` rows.
   */
  async search(filters: CallFilters, page: { limit: number; after?: CallCursor }): Promise<CallListRow[]> {
    const q = this.db('calls')
      .leftJoin('call_csat as csat', 'csat.call_sid', 'calls.call_sid')
      .select(
        'calls.*',
        'csat.score as csat_score',
        this.db.raw(`to_char(calls.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at_exact`),
        this.db.raw('(SELECT count(*)::int FROM call_turns WHERE call_turns.call_sid = calls.call_sid) AS turn_count'),
      )
      .orderBy('calls.started_at', 'desc')
      .orderBy('calls.call_sid', 'desc')
      .limit(page.limit);
    applyCallFilters(this.db, q, filters);
    if (page.after) q.whereRaw('(calls.started_at, calls.call_sid) < (?::timestamptz, ?)', [page.after.startedAt, page.after.callSid]);
    return (await q).map((r) => ({
      ...toCall(r),
      endReason: r.end_reason ?? null,
      transfer: r.transfer ?? null,
      csatScore: r.csat_score ?? null,
      disposition: r.disposition ?? null,
      summary: r.summary ?? null,
      extractedFields: r.extracted_fields ?? null,
      turnCount: r.turn_count,
      cursor: { startedAt: r.started_at_exact, callSid: r.call_sid },
    }));
  }

  /**
   * Every call matching `filters`, in {@link search}'s order, read lazily in keyset batches of `batchSize` rows: the
   * next batch is queried only once the consumer has taken the previous one, so memory holds one batch whatever
   * the number of calls. With `transcript`, each row carries its turns (one more query per batch). Not a snapshot:
   * a call that starts during the iteration is newer than the position reached and is not included.
   */
  async *stream(filters: CallFilters, o: { batchSize: number; transcript?: boolean }): AsyncGenerator<CallListRow & { transcript?: TranscriptLine[] }> {
    let after: CallCursor | undefined;
    for (;;) {
      const rows = await this.search(filters, { limit: o.batchSize, after });
      const lines = o.transcript ? await this.transcripts(rows.map((r) => r.callSid)) : null;
      for (const r of rows) yield lines ? { ...r, transcript: lines.get(r.callSid) ?? [] } : r;
      if (rows.length < o.batchSize) return;
      after = rows[rows.length - 1].cursor;
    }
  }

  /** The transcripts of some calls in one query: callSid → its turns' role and text in `seq` order (absent: no turns). */
  async transcripts(callSids: readonly string[]): Promise<Map<string, TranscriptLine[]>> {
    const out = new Map<string, TranscriptLine[]>();
    if (callSids.length === 0) return out;
    const rows = await this.db('call_turns').whereIn('call_sid', [...callSids]).orderBy([{ column: 'call_sid' }, { column: 'seq' }]).select('call_sid', 'role', 'text');
    for (const r of rows) {
      const lines = out.get(r.call_sid) ?? [];
      lines.push({ role: r.role, text: r.text });
      out.set(r.call_sid, lines);
    }
    return out;
  }

  /** The full API view of one call, or null. */
  async detail(callSid: string): Promise<CallDetail | null> {
    const call = await this.get(callSid);
    if (!call) return null;
    const [turns, csat, crm, usage, recording, events, analysisRow] = await Promise.all([
      this.turns(callSid),
      this.db('call_csat').where({ call_sid: callSid }).first(),
      this.db('crm_deliveries').where({ call_sid: callSid }).first(),
      this.usage.forCall(callSid),
      this.db('recordings').where({ call_sid: callSid }).first('call_sid'),
      this.events(callSid),
      this.db('calls').where({ call_sid: callSid }).first('summary', 'disposition', 'extracted_fields', 'analysis_method', 'analyzed_at'),
    ]);
    const components = csat?.details?.components;
    return {
      ...callFields(call),
      turns: turns.map((t) => ({ role: t.role, text: t.text, language: t.language, startMs: t.startMs, endMs: t.endMs, interrupted: !!t.interrupted, unheardText: t.unheardText ?? null, timings: t.timings ?? null })),
      csat: csat ? { score: csat.score, method: csat.method, components: components && typeof components === 'object' ? components : null, statedScore: csat.stated_score ?? null } : null,
      crmSync: crm ? { status: crm.status, attempts: crm.attempts } : { status: 'pending', attempts: 0 },
      usage,
      recordingUrl: recording ? `/api/calls/${encodeURIComponent(callSid)}/recording` : null,
      events: events.map((e) => ({ type: e.type, at: new Date(e.at).toISOString(), payload: e.payload })),
      analysis: analysisRow ? analysisOfRow(analysisRow) : null,
    };
  }
}
