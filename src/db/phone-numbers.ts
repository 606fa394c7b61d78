import type { Knex } from 'knex';

/** A phone number routed to an agent (table `phone_numbers`): calls to `number` are answered by `agentId`. */
export interface PhoneNumber {
  /** E.164, e.g. `+14155550100` (the Twilio `To` of an inbound call). */
  number: string;
  agentId: string;
  /** A human label ("Support line, UK"), or null. */
  label: string | null;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

const toPhoneNumber = (r: Record<string, any>): PhoneNumber => ({
  number: r.e164,
  agentId: r.agent_id,
  label: r.label ?? null,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** Repository of the phone numbers routed to agents. Numbers are E.164 strings; callers normalize them first. */
export class PhoneNumbersRepo {
  constructor(private readonly db: Knex) {}

  /** Runs `fn` in one transaction, with a repository bound to it (pass `trx` on to the audit log and other repositories). */
  transaction<T>(fn: (repo: PhoneNumbersRepo, trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => fn(new PhoneNumbersRepo(trx), trx));
  }

  /** Every number, ordered by number; only `agentId`'s when given. */
  async list(o: { agentId?: string } = {}): Promise<PhoneNumber[]> {
    const q = this.db('phone_numbers').orderBy('e164');
    if (o.agentId) q.where({ agent_id: o.agentId });
    return (await q).map(toPhoneNumber);
  }

  /** The number, or null; `lock` takes its row `FOR UPDATE` (inside {@link transaction}). */
  async get(number: string, o: { lock?: boolean } = {}): Promise<PhoneNumber | null> {
    const q = this.db('phone_numbers').where({ e164: number });
    if (o.lock) q.forUpdate();
    const r = await q.first();
    return r ? toPhoneNumber(r) : null;
  }

  /** Inserts a number; null when it is already configured. @throws on an unknown agent (foreign key). */
  async create(p: { number: string; agentId: string; label?: string | null }): Promise<PhoneNumber | null> {
    const [r] = await this.db('phone_numbers')
      .insert({ e164: p.number, agent_id: p.agentId, label: p.label ?? null })
      .onConflict('e164')
      .ignore()
      .returning('*');
    return r ? toPhoneNumber(r) : null;
  }

  /** Changes the agent and/or label (an absent field is kept); null when the number is unknown. */
  async update(number: string, p: { agentId?: string; label?: string | null }): Promise<PhoneNumber | null> {
    const [r] = await this.db('phone_numbers')
      .where({ e164: number })
      .update({
        ...(p.agentId !== undefined ? { agent_id: p.agentId } : {}),
        ...(p.label !== undefined ? { label: p.label } : {}),
        updated_at: this.db.fn.now(),
      })
      .returning('*');
    return r ? toPhoneNumber(r) : null;
  }

  /** Deletes a number; returns it as it was, or null when unknown. */
  async delete(number: string): Promise<PhoneNumber | null> {
    const [r] = await this.db('phone_numbers').where({ e164: number }).delete().returning('*');
    return r ? toPhoneNumber(r) : null;
  }
}
