import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { agentRoutes } from '../../../src/http/api/agents';
import { AgentsRepo } from '../../../src/db/agents';
import type { Role } from '../../../src/http/auth/principal';

const SECRET = 'whsec_c2VjcmV0LWZvci10ZXN0cy1vbmx5';
const OTHER_SECRET = 'whsec_YW5vdGhlci1zZWNyZXQtZm9yLXRlc3Rz';

const tool = (name: string, over: Record<string, unknown> = {}) => ({ name, description: `Tool ${name}.`, url: `https://crm.example.com/${name}`, ...over });

describe('agents API (/api/agents)', () => {
  let db: Knex;
  let repo: AgentsRepo;
  let srv: Awaited<ReturnType<typeof serveRoutes>>;
  let previousDefault: string | null;
  const routes = () => agentRoutes({ db });

  const call = async (method: string, path: string, role: Role | null, body?: unknown) => {
    const res = await fetch(`${srv.base}${path}`, {
      method,
      headers: role ? srv.as(role) : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
  };
  const create = (body: Record<string, unknown>) => call('POST', '/api/agents', 'supervisor', body);
  const newAgent = async (over: Record<string, unknown> = {}) => {
    const r = await create({ id: uniqueSid('ag-'), name: 'Test agent', systemPrompt: 'Be brief.', firstMessage: 'Hello!', ...over });
    expect(r.status).toBe(201);
    return r.body.agent;
  };
  const auditOf = (id: string) => db('audit_log').where({ entity_type: 'agent', entity_id: id }).orderBy('id');

  beforeAll(async () => {
    db = await setupTestDb();
    repo = new AgentsRepo(db);
    previousDefault = (await db('agents').where({ is_default: true }).first())?.id ?? null;
    srv = await serveRoutes(routes());
  });
  afterAll(async () => {
    // Leave the default agent as we found it for the other test files sharing this worker's database.
    await db.transaction(async (trx) => {
      await trx('agents').update({ is_default: false });
      if (previousDefault) await trx('agents').where({ id: previousDefault }).update({ is_default: true });
    });
    await srv.close();
    await db.destroy();
  });

  describe('create', () => {
    it('creates an agent without an id: a slug of the name, defaults filled, Location set', async () => {
      const r = await create({ name: 'Support (Español)', systemPrompt: 'Be brief.', firstMessage: 'Hola' , defaultLanguage: 'es' });
      expect(r.status).toBe(201);
      const a = r.body.agent;
      expect(a.id).toMatch(/^support-espanol-[0-9a-z]{6}$/);
      expect(r.headers.get('location')).toBe(`/api/agents/${a.id}`);
      expect(a).toMatchObject({ languages: ['es'], defaultLanguage: 'es', voices: {}, intents: [], tools: [], handoffNumber: null, isDefault: false, archivedAt: null, dtmfMenu: { '0': 'transfer' } });
      expect(a).toMatchObject({ recordCalls: true, recordingNotice: { enabled: false, text: {} } });
      expect((await call('GET', `/api/agents/${a.id}`, 'viewer')).body).toEqual({ agent: a });
    });

    it('stores every field; the handoff number is normalized to E.164 and tool secrets are write-only', async () => {
      const id = uniqueSid('ag-');
      const body = {
        id,
        name: 'Full agent',
        systemPrompt: 'Be helpful.',
        firstMessage: 'Hi!',
        firstMessages: { es: '¡Hola!' },
        languages: ['en', 'es'],
        defaultLanguage: 'en',
        voices: { en: 'en-us' },
        ttsVoices: { openai: { en: 'alloy' } },
        intents: ['order_status'],
        providers: { stt: 'local', tts: 'openai' },
        llm: { model: 'gpt-4o-mini', temperature: 0.4 },
        dtmfMenu: { '0': 'transfer', '9': 'end_call' },
        handoffNumber: '+1 (415) 555-0100',
        tools: [tool('lookup', { secret: SECRET, timeoutMs: 2000 })],
        endpointing: { silenceMs: 600, bargeIn: false },
        maxCallDurationMs: 600000,
        voicemailMessage: 'Please call us back.',
        optOutPhrases: ['stop calling'],
        recordCalls: false,
        recordingNotice: { enabled: true, text: { en: 'This call may be recorded.', es: 'Esta llamada puede ser grabada.' } },
        vocabulary: ['Acme'],
      };
      const r = await create(body);
      expect(r.status).toBe(201);
      const { tools, handoffNumber, ...rest } = body;
      expect(r.body.agent).toMatchObject({ ...rest, handoffNumber: '+14155550100', isDefault: false });
      expect(r.body.agent.tools).toEqual([{ name: 'lookup', description: 'Tool lookup.', url: 'https://crm.example.com/lookup', parameters: { type: 'object', properties: {} }, timeoutMs: 2000, hasSecret: true }]);
      expect(tools).toHaveLength(1);
      expect(handoffNumber).toContain('415');
      for (const text of [r.text, (await call('GET', `/api/agents/${id}`, 'viewer')).text, (await call('GET', '/api/agents', 'viewer')).text]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain('"secret"');
      }
      expect((await repo.get(id))!.tools[0].secret).toBe(SECRET); // kept server-side for the engine
    });

    it.each([
      ['an unknown field', { colour: 'blue' }, 'body'],
      ['an unknown field in a tool', { tools: [tool('t', { method: 'GET' })] }, 'body.tools.0'],
      ['a language that is not ISO 639-1', { languages: ['english'] }, 'body.languages.0'],
      ['a default language outside languages', { languages: ['en'], defaultLanguage: 'fr' }, 'body.defaultLanguage'],
      ['an invalid handoff number', { handoffNumber: '+1 415 555 01000' }, 'body.handoffNumber'],
      ['a handoff number without a country code', { handoffNumber: '415 555 0100' }, 'body.handoffNumber'],
      ['duplicate tool names', { tools: [tool('t'), tool('t')] }, 'body.tools'],
      ['a bad tool secret', { tools: [tool('t', { secret: 'hunter2' })] }, 'body.tools.0.secret'],
      ['an unknown provider', { providers: { tts: 'acme' } }, 'body.providers.tts'],
      ['an out-of-range temperature', { llm: { temperature: 3 } }, 'body.llm.temperature'],
      ['a recording notice without enabled', { recordingNotice: { text: { en: 'Recorded.' } } }, 'body.recordingNotice.enabled'],
      ['a recording notice line in a non-ISO language', { recordingNotice: { enabled: true, text: { english: 'Recorded.' } } }, 'body.recordingNotice.text.english'],
      ['a bad id', { id: 'has spaces' }, 'body.id'],
      ['a missing name', { name: undefined }, 'body.name'],
    ])('400 with issues for %s', async (_label, over, path) => {
      const r = await create({ id: uniqueSid('ag-'), name: 'Bad', systemPrompt: 'x', firstMessage: 'y', ...over });
      expect(r.status).toBe(400);
      expect(typeof r.body.error).toBe('string');
      expect(r.body.issues.map((i: { path: string }) => i.path)).toContain(path);
    });

    it('explains an invalid phone number', async () => {
      const r = await create({ name: 'Bad', systemPrompt: 'x', firstMessage: 'y', handoffNumber: '+1 415 555 01000' });
      expect(r.body.issues[0].message).toMatch(/not a valid phone number: too long/);
    });

    it('accepts, stores and returns an extractionSchema; PATCH replaces or clears it', async () => {
      const schema = {
        type: 'object',
        properties: {
          orderNumber: { type: 'string', description: "The caller's order number" },
          appointmentTime: { type: 'string', format: 'date-time' },
          plan: { type: 'string', enum: ['basic', 'premium'] },
        },
      };
      const a = await newAgent({ extractionSchema: schema });
      expect(a.extractionSchema).toEqual(schema);
      expect((await repo.get(a.id))!.extractionSchema).toEqual(schema);
      expect((await db('agents').where({ id: a.id }).first()).extraction_schema).toEqual(schema);
      expect((await call('GET', `/api/agents/${a.id}`, 'viewer')).body.agent.extractionSchema).toEqual(schema);
      const patched = await call('PATCH', `/api/agents/${a.id}`, 'supervisor', { extractionSchema: { type: 'object', properties: { tickets: { type: 'integer' } } } });
      expect(patched.status).toBe(200);
      expect(patched.body.agent.extractionSchema).toEqual({ type: 'object', properties: { tickets: { type: 'integer' } } });
      const cleared = await call('PATCH', `/api/agents/${a.id}`, 'supervisor', { extractionSchema: null });
      expect(cleared.body.agent.extractionSchema).toBeNull();
      expect((await newAgent()).extractionSchema).toBeNull();
    });

    it.each([
      [{ type: 'array', properties: { a: { type: 'string' } } }, 'body.extractionSchema.type', "type must be 'object'"],
      [{ type: 'object', properties: {} }, 'body.extractionSchema.properties', 'properties must list at least one field'],
      [{ type: 'object', properties: { address: { type: 'object', properties: {} } } }, 'body.extractionSchema.properties.address.type', "type must be one of 'string', 'number', 'integer', 'boolean'"],
      [{ type: 'object', properties: { n: { type: 'number', format: 'email' } } }, 'body.extractionSchema.properties.n.format', 'format is only allowed on string properties'],
      [{ type: 'object', properties: { s: { type: 'string', format: 'uri' } } }, 'body.extractionSchema.properties.s.format', 'format must be one of date-time, date, time, email, phone'],
      [{ type: 'object', properties: { '1bad': { type: 'string' } } }, 'body.extractionSchema.properties.1bad', 'property names must be 1-64 letters, digits or _ and not start with a digit'],
      [{ type: 'object', properties: { p: { type: 'integer', enum: ['a'] } } }, 'body.extractionSchema.properties.p.enum', 'every enum value must be of type integer'],
    ])('400 with a clear message for an invalid extractionSchema %#', async (schema, path, message) => {
      const r = await create({ name: 'Bad schema', systemPrompt: 'x', firstMessage: 'y', extractionSchema: schema });
      expect(r.status).toBe(400);
      expect(r.body.issues).toContainEqual({ path, message });
    });

    it('409 when the id exists (the stored agent is untouched)', async () => {
      const a = await newAgent({ name: 'Original' });
      const r = await create({ id: a.id, name: 'Impostor', systemPrompt: 'x', firstMessage: 'y' });
      expect(r.status).toBe(409);
      expect(r.body.error).toMatch(/already exists/);
      expect((await repo.get(a.id))!.name).toBe('Original');
    });
  });

  describe('roles', () => {
    it('a viewer reads but gets 403 on every write route; no principal gets 401', async () => {
      const a = await newAgent();
      const writes = routes().filter((r) => r.method !== 'get');
      expect(writes.length).toBeGreaterThanOrEqual(4);
      for (const r of writes) {
        const path = r.path.replace(':id', a.id);
        expect({ route: `${r.method} ${r.path}`, status: (await call(r.method.toUpperCase(), path, 'viewer', {})).status }).toEqual({ route: `${r.method} ${r.path}`, status: 403 });
        expect((await call(r.method.toUpperCase(), path, null, {})).status).toBe(401);
      }
      expect((await call('GET', `/api/agents/${a.id}`, 'viewer')).status).toBe(200);
      expect(await repo.get(a.id)).toMatchObject({ archivedAt: null, name: a.name });
    });
  });

  describe('read', () => {
    it('404 for an unknown agent, 400 for an invalid id or query', async () => {
      expect((await call('GET', `/api/agents/${uniqueSid('nope-')}`, 'viewer')).status).toBe(404);
      const bad = await call('GET', '/api/agents/bad%20id', 'viewer');
      expect(bad.status).toBe(400);
      expect(bad.body.issues[0].path).toBe('params.id');
      expect((await call('GET', '/api/agents?includeArchived=yes', 'viewer')).status).toBe(400);
      expect((await call('GET', '/api/agents?colour=blue', 'viewer')).status).toBe(400);
    });
  });

  describe('update', () => {
    it('merges a partial update with the stored agent and records before/after', async () => {
      const a = await newAgent({ intents: ['hours'], voices: { en: 'en-us' } });
      const r = await call('PATCH', `/api/agents/${a.id}`, 'supervisor', { name: 'Renamed', llm: { temperature: 0.1 }, handoffNumber: '+44 20 7183 8750' });
      expect(r.status).toBe(200);
      expect(r.body.agent).toEqual({ ...a, name: 'Renamed', llm: { temperature: 0.1 }, handoffNumber: '+442071838750' });
      expect(await repo.get(a.id)).toMatchObject({ name: 'Renamed', intents: ['hours'], handoffNumber: '+442071838750' });
      const entries = await auditOf(a.id);
      expect(entries.map((e) => e.action)).toEqual(['agent.create', 'agent.update']);
      expect(entries[1]).toMatchObject({ actor_kind: 'user', actor_id: 'test-supervisor', actor_label: 'supervisor@test.example' });
      expect(entries[1].before).toMatchObject({ name: a.name, handoffNumber: null });
      expect(entries[1].after).toMatchObject({ name: 'Renamed', handoffNumber: '+442071838750' });
    });

    it('an unchanged update writes nothing to the audit log', async () => {
      const a = await newAgent();
      expect((await call('PATCH', `/api/agents/${a.id}`, 'supervisor', { name: a.name })).status).toBe(200);
      expect((await call('PATCH', `/api/agents/${a.id}`, 'supervisor', {})).status).toBe(200);
      expect((await auditOf(a.id)).map((e) => e.action)).toEqual(['agent.create']);
    });

    it('validates the merged result, rejects unknown fields and id changes; 404 for an unknown agent', async () => {
      const a = await newAgent({ languages: ['en', 'es'], defaultLanguage: 'en' });
      const r = await call('PATCH', `/api/agents/${a.id}`, 'supervisor', { languages: ['es'] });
      expect(r.status).toBe(400);
      expect(r.body.issues).toEqual([{ path: 'body.defaultLanguage', message: 'defaultLanguage must be one of languages' }]);
      for (const body of [{ id: 'other' }, { archivedAt: null }, { colour: 'blue' }, { maxCallDurationMs: 5 }]) {
        expect((await call('PATCH', `/api/agents/${a.id}`, 'supervisor', body)).status).toBe(400);
      }
      expect((await call('PATCH', `/api/agents/${uniqueSid('nope-')}`, 'supervisor', { name: 'x' })).status).toBe(404);
      expect(await repo.get(a.id)).toMatchObject({ languages: ['en', 'es'], maxCallDurationMs: null });
    });

    it('keeps a tool secret the PATCH omits (same tool name), replaces or clears it when given', async () => {
      const a = await newAgent({ tools: [tool('lookup', { secret: SECRET }), tool('book', { secret: SECRET })] });
      // The client sends back what it read (no secrets) with a changed description.
      const read = (await call('GET', `/api/agents/${a.id}`, 'viewer')).body.agent;
      const edited = read.tools.map(({ hasSecret: _h, ...t }: Record<string, unknown>) => ({ ...t, description: 'Changed.' }));
      const r = await call('PATCH', `/api/agents/${a.id}`, 'supervisor', { tools: edited });
      expect(r.status).toBe(200);
      expect(r.body.agent.tools.map((t: { hasSecret: boolean }) => t.hasSecret)).toEqual([true, true]);
      expect((await repo.get(a.id))!.tools.map((t) => [t.description, t.secret])).toEqual([['Changed.', SECRET], ['Changed.', SECRET]]);

      const r2 = await call('PATCH', `/api/agents/${a.id}`, 'supervisor', { tools: [{ ...edited[0], secret: null }, { ...edited[1], secret: OTHER_SECRET }, tool('new')] });
      expect(r2.body.agent.tools.map((t: { hasSecret: boolean }) => t.hasSecret)).toEqual([false, true, false]);
      expect((await repo.get(a.id))!.tools.map((t) => t.secret)).toEqual([undefined, OTHER_SECRET, undefined]);
      // A PATCH of other fields leaves the tools alone.
      await call('PATCH', `/api/agents/${a.id}`, 'supervisor', { name: 'Other' });
      expect((await repo.get(a.id))!.tools[1].secret).toBe(OTHER_SECRET);

      const log = JSON.stringify(await auditOf(a.id));
      expect(log).not.toContain(SECRET);
      expect(log).not.toContain(OTHER_SECRET);
      expect(log).toContain('hasSecret');
    });
  });

  describe('default agent', () => {
    it('making an agent the default clears the previous one (audited); at most one default', async () => {
      const a = await newAgent({ isDefault: true });
      const b = await newAgent();
      expect((await repo.get(a.id))!.isDefault).toBe(true);
      const r = await call('PATCH', `/api/agents/${b.id}`, 'supervisor', { isDefault: true });
      expect(r.body.agent.isDefault).toBe(true);
      expect((await repo.get(a.id))!.isDefault).toBe(false);
      expect((await db('agents').where({ is_default: true })).map((x) => x.id)).toEqual([b.id]);
      const aLog = await auditOf(a.id);
      expect(aLog.map((e) => e.action)).toEqual(['agent.create', 'agent.update']);
      expect([aLog[1].before.isDefault, aLog[1].after.isDefault, aLog[1].actor_id]).toEqual([true, false, 'test-supervisor']);
      const list = (await call('GET', '/api/agents', 'viewer')).body.agents;
      expect(list[0].id).toBe(b.id);
    });

    it('concurrent "make X the default" writes both succeed, one after the other', async () => {
      const [a, b] = [await newAgent(), await newAgent()];
      const rs = await Promise.all([a, b].map((x) => call('PATCH', `/api/agents/${x.id}`, 'supervisor', { isDefault: true })));
      expect(rs.map((r) => r.status)).toEqual([200, 200]);
      expect((await db('agents').where({ is_default: true })).length).toBe(1);
    });
  });

  describe('archive', () => {
    it('archives: hidden from the list unless includeArchived, still readable, idempotent, unarchivable', async () => {
      const a = await newAgent();
      const r = await call('POST', `/api/agents/${a.id}/archive`, 'supervisor');
      expect(r.status).toBe(200);
      expect(Date.parse(r.body.agent.archivedAt)).not.toBeNaN();
      expect((await call('GET', '/api/agents', 'viewer')).body.agents.map((x: { id: string }) => x.id)).not.toContain(a.id);
      expect((await call('GET', '/api/agents?includeArchived=true', 'viewer')).body.agents.map((x: { id: string }) => x.id)).toContain(a.id);
      expect((await call('GET', `/api/agents/${a.id}`, 'viewer')).body.agent.archivedAt).toBe(r.body.agent.archivedAt);
      expect((await call('POST', `/api/agents/${a.id}/archive`, 'supervisor')).body.agent.archivedAt).toBe(r.body.agent.archivedAt);

      const def = await call('PATCH', `/api/agents/${a.id}`, 'supervisor', { isDefault: true });
      expect(def.status).toBe(409);
      expect(def.body.error).toMatch(/archived/);

      expect((await call('POST', `/api/agents/${a.id}/unarchive`, 'supervisor')).body.agent.archivedAt).toBeNull();
      expect((await auditOf(a.id)).map((e) => e.action)).toEqual(['agent.create', 'agent.archive', 'agent.unarchive']);
      const [, archived] = await auditOf(a.id);
      expect([archived.before.archivedAt, typeof archived.after.archivedAt]).toEqual([null, 'string']);
    });

    it('409 for the default agent and for an agent numbers route to; 404 for an unknown one', async () => {
      const def = await newAgent({ isDefault: true });
      const r = await call('POST', `/api/agents/${def.id}/archive`, 'supervisor');
      expect(r.status).toBe(409);
      expect(r.body.error).toMatch(/default/);

      const routed = await newAgent();
      await repo.bindNumber('+14155550177', routed.id);
      const r2 = await call('POST', `/api/agents/${routed.id}/archive`, 'supervisor');
      expect(r2.status).toBe(409);
      expect(r2.body.error).toContain('+14155550177');
      expect((await repo.get(routed.id))!.archivedAt).toBeNull();
      await db('phone_numbers').where({ e164: '+14155550177' }).delete();

      expect((await call('POST', `/api/agents/${uniqueSid('nope-')}/archive`, 'supervisor')).status).toBe(404);
    });
  });
});
