import type { Knex } from 'knex';

/** Per-turn latency stages reported by the overview (keys of the agent turns' `timings`, ms). */
export const LATENCY_STAGES = ['endpointingMs', 'sttMs', 'llmFirstTokenMs', 'ttsFirstByteMs', 'replyLatencyMs'] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

/** One day (UTC) of the overview. */
export interface OverviewDay {
  day: string;
  calls: number;
  answered: number;
  abandoned: number;
  transfers: number;
  contained: number;
  costUsd: number;
}

/** The overview of the calls that started in [from, to): see {@link OverviewRepo.overview}. */
export interface Overview {
  from: string;
  to: string;
  totals: { calls: number; answered: number; abandoned: number; transfers: number; contained: number; containmentRate: number | null; costUsd: number };
  days: OverviewDay[];
  csat: { average: number | null; count: number; distribution: Record<'1' | '2' | '3' | '4' | '5', number> };
  /** Per day (UTC, by the turn's time): p50 and p95 of each stage over the agent turns that report it (ms), null when none. */
  latency: Array<{ day: string; turns: number; stages: Record<LatencyStage, { p50: number | null; p95: number | null }> }>;
  languages: Array<{ language: string | null; calls: number }>;
  topIntents: Array<{ intent: string; calls: number }>;
  /** Calls with no `ended_at` that started within `liveWindowMs` before now (older ones are stale rows, not live calls). */
  liveNow: number;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
/** The UTC day of a timestamptz column, as a `date` (grouped on; formatted once per group, not per row). */
const dayOf = (col: string) => `(${col} AT TIME ZONE 'UTC')::date`;
/** `YYYY-MM-DD` of a grouped `day` value (pg returns `date` as a string with the pool's type parser, else a Date). */
const dayText = (v: unknown): string => (v instanceof Date ? `${v.getFullYear()}-${String(v.getMonth() + 1).padStart(2, '0')}-${String(v.getDate()).padStart(2, '0')}` : String(v).slice(0, 10));

/**
 * Read-only analytics over calls, turns, CSAT and usage for `GET /api/analytics/overview`. Definitions:
 * - answered: the agent's media stream started (`stream_sid` set); abandoned: the call ended without one (the caller
 *   hung up while it rang, busy, no-answer, failed, canceled).
 * - transfers: calls handed to a person (`transfer` stored); contained: answered, ended, and not transferred;
 *   containmentRate = contained / (answered and ended), null when none.
 * - cost: the estimated cost of the usage recorded in the range (`call_usage.recorded_at`: a call's usage is written
 *   when it ends, its telephony minutes at Twilio's final status callback), per UTC day of recording.
 * - CSAT: the post-call scores (`call_csat`) of the calls in range: average and count per score 1..5.
 * - latency: p50/p95 per stage (`percentile_cont`) of agent turns with timings, per UTC day of the turn.
 * Each part is one query (run side by side); indexes: `calls_started_at_call_sid`, `call_turns_agent_timings`
 * (partial, agent turns with timings, by created_at) and `calls_live` (partial, calls without ended_at).
 */
export class OverviewRepo {
  constructor(private readonly db: Knex) {}

  /** The overview of calls that started in [`from`, `to`); `now` and `liveWindowMs` (default 4 h) decide "live now". */
  async overview(o: { from: Date; to: Date; now?: Date; liveWindowMs?: number; topIntents?: number }): Promise<Overview> {
    const { db } = this;
    const inRange = (q: Knex.QueryBuilder, col = 'c.started_at') => q.where(col, '>=', o.from).andWhere(col, '<', o.to);
    const now = o.now ?? new Date();
    const [days, costs, csat, latency, languages, intents, live] = await Promise.all([
      inRange(db('calls as c'))
        .select(
          db.raw(`${dayOf('c.started_at')} AS day`),
          db.raw('count(*)::int AS calls'),
          db.raw('count(*) FILTER (WHERE c.stream_sid IS NOT NULL)::int AS answered'),
          db.raw('count(*) FILTER (WHERE c.stream_sid IS NULL AND c.ended_at IS NOT NULL)::int AS abandoned'),
          db.raw('count(*) FILTER (WHERE c.transfer IS NOT NULL)::int AS transfers'),
          db.raw('count(*) FILTER (WHERE c.stream_sid IS NOT NULL AND c.ended_at IS NOT NULL AND c.transfer IS NULL)::int AS contained'),
          db.raw('count(*) FILTER (WHERE c.stream_sid IS NOT NULL AND c.ended_at IS NOT NULL)::int AS answered_ended'),
        )
        .groupByRaw('1')
        .orderByRaw('1'),
      // By the usage's own time (written at the call's end): an index range scan, no join with calls.
      inRange(db('call_usage as u'), 'u.recorded_at')
        .select(db.raw(`${dayOf('u.recorded_at')} AS day`), db.raw('sum(u.cost_usd)::float8 AS cost'))
        .groupByRaw('1'),
      inRange(db('call_csat as s').join('calls as c', 'c.call_sid', 's.call_sid'))
        .select('s.score', db.raw('count(*)::int AS n'))
        .groupBy('s.score'),
      // One pass: each stage's value is read from the JSON once, and one sort per stage gives both percentiles.
      db
        .from(
          inRange(db('call_turns as t'), 't.created_at')
            .where('t.role', 'agent')
            .whereNotNull('t.timings')
            .select(db.raw(`${dayOf('t.created_at')} AS day`), ...LATENCY_STAGES.map((s) => db.raw(`(t.timings->>'${s}')::float8 AS "${s}"`)))
            .as('x'),
        )
        .select('day', db.raw('count(*)::int AS turns'), ...LATENCY_STAGES.map((s) => db.raw(`percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY "${s}") AS "${s}"`)))
        .groupBy('day')
        .orderBy('day'),
      inRange(db('calls as c')).select('c.language', db.raw('count(*)::int AS calls')).groupBy('c.language').orderBy([{ column: 'calls', order: 'desc' }, { column: 'c.language' }]),
      inRange(db('calls as c'))
        .whereNotNull('c.intent')
        .select('c.intent', db.raw('count(*)::int AS calls'))
        .groupBy('c.intent')
        .orderBy([{ column: 'calls', order: 'desc' }, { column: 'c.intent' }])
        .limit(o.topIntents ?? 10),
      db('calls')
        .whereNull('ended_at')
        .where('started_at', '>', new Date(now.getTime() - (o.liveWindowMs ?? 4 * 3_600_000)))
        .andWhere('started_at', '<=', now)
        .first(db.raw('count(*)::int AS n')),
    ]);
    const costByDay = new Map<string, number>(costs.map((r: any) => [dayText(r.day), Number(r.cost)]));
    const outDays: OverviewDay[] = days.map((r: any) => ({
      day: dayText(r.day), calls: r.calls, answered: r.answered, abandoned: r.abandoned, transfers: r.transfers, contained: r.contained, costUsd: round(costByDay.get(dayText(r.day)) ?? 0, 6),
    }));
    const sum = (k: keyof OverviewDay) => outDays.reduce((n, d) => n + (d[k] as number), 0);
    const answeredEnded = days.reduce((n: number, r: any) => n + r.answered_ended, 0);
    const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 } as Overview['csat']['distribution'];
    let scored = 0;
    let total = 0;
    for (const r of csat as Array<{ score: number; n: number }>) {
      distribution[String(r.score) as keyof typeof distribution] = r.n;
      scored += r.n;
      total += r.score * r.n;
    }
    const ms = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v)));
    return {
      from: o.from.toISOString(),
      to: o.to.toISOString(),
      totals: {
        calls: sum('calls'), answered: sum('answered'), abandoned: sum('abandoned'), transfers: sum('transfers'), contained: sum('contained'),
        containmentRate: answeredEnded ? round(sum('contained') / answeredEnded, 4) : null,
        costUsd: round([...costByDay.values()].reduce((n, c) => n + c, 0), 6),
      },
      days: outDays,
      csat: { average: scored ? round(total / scored, 2) : null, count: scored, distribution },
      latency: latency.map((r: any) => ({
        day: dayText(r.day),
        turns: r.turns,
        stages: Object.fromEntries(LATENCY_STAGES.map((s) => [s, { p50: ms(r[s]?.[0]), p95: ms(r[s]?.[1]) }])) as Overview['latency'][number]['stages'],
      })),
      languages: languages.map((r: any) => ({ language: r.language ?? null, calls: r.calls })),
      topIntents: intents.map((r: any) => ({ intent: r.intent, calls: r.calls })),
      liveNow: (live as any)?.n ?? 0,
    };
  }
}
