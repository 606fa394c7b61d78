import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { migrationSource } from '../../../migrations';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo } from '../../../src/db/agents';

/** The transcript search document (migration 20261202000700_call_search) follows the turns it is built from. */
describe('call_search document', () => {
  let db: Knex;
  let calls: CallsRepo;
  const agentId = uniqueSid('search-');
  const MIGRATION = '20261202000700_call_search';

  /** This test's calls whose transcript matches `q` (web-search syntax). */
  const found = async (q: string, sids: string[]): Promise<string[]> =>
    (await calls.search({ agentId, text: q }, { limit: 100 })).map((r) => r.callSid).filter((s) => sids.includes(s)).sort();

  beforeAll(async () => {
    db = await setupTestDb();
    calls = new CallsRepo(db);
    await new AgentsRepo(db).upsert({ id: agentId, name: 'search test', systemPrompt: 'x', firstMessage: 'x', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false });
  });

  afterAll(async () => {
    await db('calls').where({ agent_id: agentId }).delete();
    await db('agents').where({ id: agentId }).delete();
    await db.destroy();
  });

  const newCall = async (turns: string[]): Promise<string> => {
    const sid = uniqueSid('CA');
    await calls.create({ callSid: sid, agentId, direction: 'inbound', from: '+1', to: '+2', status: 'in-progress' });
    for (const [i, text] of turns.entries()) await calls.addTurn(sid, { role: i % 2 ? 'agent' : 'caller', text, language: 'en', startMs: i, endMs: i + 1 });
    return sid;
  };

  it('a bulk insert of turns of several calls (one statement) indexes each call', async () => {
    const a = await newCall([]);
    const b = await newCall([]);
    await db('call_turns').insert([
      { call_sid: a, seq: 1, role: 'caller', text: 'alpha one', start_ms: 0, end_ms: 1 },
      { call_sid: b, seq: 1, role: 'caller', text: 'bravo one', start_ms: 0, end_ms: 1 },
      { call_sid: a, seq: 2, role: 'agent', text: 'alpha two', start_ms: 1, end_ms: 2 },
    ]);
    expect(await found('alpha two', [a, b])).toEqual([a]);
    expect(await found('one', [a, b])).toEqual([a, b].sort());
    expect(await found('"one alpha"', [a, b])).toEqual([a]); // positions follow seq across turns
  });

  it('an edited turn or a deleted turn rebuilds the call document', async () => {
    const sid = await newCall(['my parcel is late', 'sorry about the parcel']);
    await db('call_turns').where({ call_sid: sid, seq: 1 }).update({ text: 'my invoice is wrong' });
    expect(await found('late', [sid])).toEqual([]);
    expect(await found('invoice parcel', [sid])).toEqual([sid]);
    await db('call_turns').where({ call_sid: sid, seq: 2 }).delete();
    expect(await found('parcel', [sid])).toEqual([]);
    await db('call_turns').where({ call_sid: sid }).delete();
    expect(await db('call_search').where({ call_sid: sid }).first()).toBeUndefined();
  });

  it('the migration backfills transcripts written before it, and reverts cleanly', async () => {
    const before = await newCall(['written before the search existed', 'quokka answer']);
    await db.migrate.down({ migrationSource, name: MIGRATION });
    try {
      expect((await db.raw(`SELECT to_regclass('call_search') AS t`)).rows[0].t).toBeNull();
      // Without the trigger: a turn that only a backfill can index.
      await db('call_turns').insert({ call_sid: before, seq: 3, role: 'caller', text: 'wombat question', start_ms: 3, end_ms: 4 });
    } finally {
      await db.migrate.up({ migrationSource, name: MIGRATION });
    }
    expect(await found('quokka wombat', [before])).toEqual([before]);
  });
});
