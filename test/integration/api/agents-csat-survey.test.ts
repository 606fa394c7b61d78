import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { agentRoutes } from '../../../src/http/api/agents';
import { AgentsRepo } from '../../../src/db/agents';

/** The agents API's `csatSurvey` setting (issue 13 §5), stored in `agents.csat_survey`. */
describe('agents API: csatSurvey (real PostgreSQL)', () => {
  let db: Knex;
  let srv: Awaited<ReturnType<typeof serveRoutes>>;
  const ids: string[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${srv.base}${path}`, { method, headers: srv.as('supervisor'), body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const create = (over: Record<string, unknown>) => {
    const id = uniqueSid('csat-ag-');
    ids.push(id);
    return call('POST', '/api/agents', { id, name: 'Survey agent', systemPrompt: 'x', firstMessage: 'Hello!', ...over });
  };

  beforeAll(async () => {
    db = await setupTestDb();
    srv = await serveRoutes(agentRoutes({ db }));
  });
  afterAll(async () => {
    await srv.close();
    await db('audit_log').where({ entity_type: 'agent' }).whereIn('entity_id', ids).delete();
    await db('agents').whereIn('id', ids).delete();
    await db.destroy();
  });

  it('defaults to off; a given survey is stored, returned, and replaced by a PATCH', async () => {
    const plain = await create({});
    expect(plain.status).toBe(201);
    expect(plain.body.agent.csatSurvey).toEqual({ enabled: false });

    const survey = { enabled: true, prompt: { en: 'Rate us from 1 to 5.', es: 'Califíquenos del 1 al 5.' }, timeoutMs: 6000 };
    const r = await create({ languages: ['en', 'es'], csatSurvey: survey });
    expect(r.status).toBe(201);
    expect(r.body.agent.csatSurvey).toEqual(survey);
    const id = r.body.agent.id as string;
    expect((await new AgentsRepo(db).get(id))?.csatSurvey).toEqual(survey);
    const patched = await call('PATCH', `/api/agents/${id}`, { csatSurvey: { enabled: false } });
    expect(patched.status).toBe(200);
    expect((await db('agents').where({ id }).first()).csat_survey).toEqual({ enabled: false });
  });

  it.each([
    ['without enabled', { timeoutMs: 5000 }, 'body.csatSurvey.enabled'],
    ['a timeout under 2 s', { enabled: true, timeoutMs: 500 }, 'body.csatSurvey.timeoutMs'],
    ['a prompt in a non-ISO language', { enabled: true, prompt: { english: 'Rate us.' } }, 'body.csatSurvey.prompt.english'],
    ['an unknown field', { enabled: true, digits: '12345' }, 'body.csatSurvey'],
  ])('400 with the field for a survey %s', async (_label, csatSurvey, path) => {
    const r = await create({ csatSurvey });
    expect(r.status).toBe(400);
    expect(r.body.issues.map((i: { path: string }) => i.path)).toContain(path);
  });
});
