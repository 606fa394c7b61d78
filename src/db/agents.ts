import type { Knex } from 'knex';
import { z } from 'zod';
import { dtmfMenuSchema, httpToolSchema, ttsVoicesSchema, type HttpToolSpec } from '../domain/tools';
import type { Agent } from '../domain/agents';
import { agentSettingsShape } from '../domain/agent-settings';
import { parseExtractionSchema } from '../domain/extraction-schema';
export type { Agent };

const lang = z.string().regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code like "en"');

/** An agent's domain vocabulary: at most 500 entries, each trimmed and 1–64 characters (correction stays cheap per turn). */
const vocabularySchema = z
  .array(z.string().trim().min(1, 'vocabulary entries must not be empty').max(64, 'vocabulary entries are at most 64 characters'))
  .max(500, 'at most 500 vocabulary entries');

/** zod schema for {@link Agent}; `upsert` validates with it. */
export const agentSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 chars of letters, digits, _ . -'),
    name: z.string().min(1).max(200),
    systemPrompt: z.string().min(1),
    firstMessage: z.string().min(1),
    defaultLanguage: lang,
    languages: z.array(lang).min(1),
    voices: z.record(z.string(), z.string().min(1)),
    intents: z.array(z.string().regex(/^[a-z0-9_]{1,64}$/, 'intents are snake_case')),
    handoffNumber: z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be E.164').nullable(),
    isDefault: z.boolean(),
    dtmfMenu: dtmfMenuSchema.default({ '0': 'transfer' }),
    ttsVoices: ttsVoicesSchema.default({}),
    tools: z.array(httpToolSchema).default([]),
    vocabulary: vocabularySchema.default([]),
    ...agentSettingsShape,
  })
  .refine((a) => a.languages.includes(a.defaultLanguage), { message: 'defaultLanguage must be one of languages', path: ['defaultLanguage'] });

/** An agent as given to {@link AgentsRepo.upsert}: dtmfMenu, ttsVoices, tools and vocabulary may be omitted (defaults apply; vocabulary entries are trimmed). */
export type AgentInput = z.input<typeof agentSchema>;

const toAgent = (r: Record<string, any>): Agent => ({
  id: r.id,
  name: r.name,
  systemPrompt: r.system_prompt,
  firstMessage: r.first_message,
  defaultLanguage: r.default_language,
  languages: r.languages,
  voices: r.voices ?? {},
  intents: r.intents ?? [],
  handoffNumber: r.handoff_number,
  isDefault: r.is_default,
  dtmfMenu: r.dtmf_menu ?? { '0': 'transfer' },
  ttsVoices: r.tts_voices ?? {},
  tools: r.tools ?? [],
  vocabulary: r.vocabulary ?? [],
  firstMessages: r.first_messages ?? {},
  providers: r.providers ?? {},
  llm: r.llm ?? {},
  endpointing: r.endpointing ?? {},
  maxCallDurationMs: r.max_call_duration_ms ?? null,
  voicemailMessage: r.voicemail_message ?? null,
  optOutPhrases: r.opt_out_phrases ?? [],
  recordCalls: r.record_calls ?? true,
  recordingNotice: r.recording_notice ?? { enabled: false, text: {} },
  extractionSchema: parseExtractionSchema(r.extraction_schema),
  csatSurvey: r.csat_survey ?? { enabled: false },
  archivedAt: r.archived_at ? new Date(r.archived_at).toISOString() : null,
});

/** An agent as the REST API shows it: tool secrets removed (replaced by `hasSecret`). */
export function publicAgent(a: Agent): Omit<Agent, 'tools'> & { tools: Array<Omit<HttpToolSpec, 'secret'> & { hasSecret: boolean }> } {
  return { ...a, tools: a.tools.map(({ secret, ...t }) => ({ ...t, hasSecret: !!secret })) };
}

/** Repository for agents and the phone numbers routed to them (tables `agents`, `phone_numbers`). */
export class AgentsRepo {
  constructor(private readonly db: Knex) {}

  /** The agent with this id, or null. */
  async get(id: string): Promise<Agent | null> {
    const r = await this.db('agents').where({ id }).first();
    return r ? toAgent(r) : null;
  }

  /** All agents, default first, then by id. */
  async list(): Promise<Agent[]> {
    const rows = await this.db('agents').orderBy('is_default', 'desc').orderBy('id');
    return rows.map(toAgent);
  }

  /**
   * The agent answering calls to `e164` (the Twilio `To` number): the one bound in `phone_numbers`, else — for an
   * unconfigured number — the agent with `is_default = true` (`o.unconfigured: 'default'`, the default) or none
   * (`'reject'`), else null. Archived agents take no new calls: a number bound to one is unconfigured, and an
   * archived default agent is no default.
   */
  async forNumber(e164: string, o: { unconfigured?: 'default' | 'reject' } = {}): Promise<Agent | null> {
    // One round trip (every inbound call starts here): the live agent bound to the number first, else the default.
    const q = this.db('agents')
      .leftJoin('phone_numbers', (j) => j.on('phone_numbers.agent_id', 'agents.id').andOnVal('phone_numbers.e164', e164))
      .whereNull('agents.archived_at')
      .orderByRaw('phone_numbers.e164 IS NULL, agents.id')
      .first('agents.*');
    if (o.unconfigured === 'reject') q.whereNotNull('phone_numbers.e164');
    else q.andWhere((w) => w.whereNotNull('phone_numbers.e164').orWhere('agents.is_default', true));
    const r = await q;
    return r ? toAgent(r) : null;
  }

  /**
   * Inserts or updates an agent by id. Setting `isDefault: true` clears the flag on every other agent in the same
   * transaction (at most one default, enforced by the unique partial index `agents_one_default`).
   * @throws ZodError when the agent does not validate.
   */
  async upsert(agent: AgentInput): Promise<Agent> {
    const a = agentSchema.parse(agent);
    const row = agentRow(a);
    return this.db.transaction(async (trx) => {
      if (a.isDefault) await trx('agents').where({ is_default: true }).whereNot({ id: a.id }).update({ is_default: false, updated_at: trx.fn.now() });
      const [r] = await trx('agents')
        .insert(row)
        .onConflict('id')
        .merge({ ...row, updated_at: trx.fn.now() })
        .returning('*');
      return toAgent(r);
    });
  }

  /** Routes calls to `e164` to `agentId` (replacing any previous binding). @throws when the agent does not exist (FK). */
  async bindNumber(e164: string, agentId: string): Promise<void> {
    await this.db('phone_numbers').insert({ e164, agent_id: agentId }).onConflict('e164').merge({ agent_id: agentId, updated_at: this.db.fn.now() });
  }

  /**
   * Runs `fn` in one transaction, with a repository bound to it; pass `trx` on (e.g. to `AuditRepo.record`) so
   * everything commits or rolls back together.
   */
  transaction<T>(fn: (repo: AgentsRepo, trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => fn(new AgentsRepo(trx), trx));
  }

  /** The agent with this id, its row locked (`FOR UPDATE`) until the transaction ends; null when unknown. Use inside {@link transaction}. */
  async getForUpdate(id: string): Promise<Agent | null> {
    const r = await this.db('agents').where({ id }).forUpdate().first();
    return r ? toAgent(r) : null;
  }

  /**
   * Inserts a new agent (never overwrites: null when the id exists). Does not touch other agents' `isDefault`:
   * call {@link clearDefaultExcept} first in the same transaction when `isDefault` is true.
   * @throws ZodError when the agent does not validate.
   */
  async create(agent: AgentInput): Promise<Agent | null> {
    const [r] = await this.db('agents').insert(agentRow(agentSchema.parse(agent))).onConflict('id').ignore().returning('*');
    return r ? toAgent(r) : null;
  }

  /**
   * Replaces every field of a stored agent but `id` and `archivedAt`; null when the id is unknown. Does not touch
   * other agents (see {@link clearDefaultExcept}).
   * @throws ZodError when the agent does not validate.
   */
  async update(agent: AgentInput): Promise<Agent | null> {
    const a = agentSchema.parse(agent);
    const [r] = await this.db('agents')
      .where({ id: a.id })
      .update({ ...agentRow(a), updated_at: this.db.fn.now() })
      .returning('*');
    return r ? toAgent(r) : null;
  }

  /**
   * Clears `isDefault` on every agent but `exceptId`, under a transaction-scoped advisory lock so two concurrent
   * "make X the default" writes serialize instead of colliding on the `agents_one_default` index. Use inside
   * {@link transaction}. @returns the agents that were the default, as they were before.
   */
  async clearDefaultExcept(exceptId: string): Promise<Agent[]> {
    await this.db.raw("SELECT pg_advisory_xact_lock(hashtext('agents_one_default'))");
    const before = await this.db('agents').where({ is_default: true }).whereNot({ id: exceptId }).forUpdate();
    if (before.length) await this.db('agents').whereIn('id', before.map((r) => r.id)).update({ is_default: false, updated_at: this.db.fn.now() });
    return before.map(toAgent);
  }

  /**
   * Sets (`archived: true`, now) or clears `archived_at`; an agent already in that state keeps its timestamp.
   * Archiving does not check `isDefault` (callers refuse to archive the default agent). Null when unknown.
   */
  async setArchived(id: string, archived: boolean): Promise<Agent | null> {
    const [r] = await this.db('agents')
      .where({ id })
      .update({ archived_at: archived ? this.db.raw('COALESCE(archived_at, now())') : null, updated_at: this.db.fn.now() })
      .returning('*');
    return r ? toAgent(r) : null;
  }
}

/** The `agents` row of a validated agent (every column but `archived_at` and the timestamps). */
function agentRow(a: z.output<typeof agentSchema>): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    system_prompt: a.systemPrompt,
    first_message: a.firstMessage,
    default_language: a.defaultLanguage,
    languages: a.languages,
    voices: JSON.stringify(a.voices),
    intents: a.intents,
    handoff_number: a.handoffNumber,
    is_default: a.isDefault,
    dtmf_menu: JSON.stringify(a.dtmfMenu),
    tts_voices: JSON.stringify(a.ttsVoices),
    tools: JSON.stringify(a.tools),
    vocabulary: a.vocabulary,
    first_messages: JSON.stringify(a.firstMessages),
    providers: JSON.stringify(a.providers),
    llm: JSON.stringify(a.llm),
    endpointing: JSON.stringify(a.endpointing),
    max_call_duration_ms: a.maxCallDurationMs,
    voicemail_message: a.voicemailMessage,
    opt_out_phrases: a.optOutPhrases,
    record_calls: a.recordCalls,
    recording_notice: JSON.stringify(a.recordingNotice),
    extraction_schema: a.extractionSchema ? JSON.stringify(a.extractionSchema) : null,
    csat_survey: JSON.stringify(a.csatSurvey),
  };
}
