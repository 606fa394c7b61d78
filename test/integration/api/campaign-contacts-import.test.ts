import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { createTestAgent, createTestCampaign, randomUsPhone } from '../../helpers/campaigns';
import { campaignContactRoutes } from '../../../src/http/api/campaign-contacts';
import { importContacts, contactFromCsv } from '../../../src/campaigns/contact-import';
import { csvRows } from '../../../src/campaigns/csv-rows';
import { DncRepo } from '../../../src/db/dnc';
import { CampaignsRepo } from '../../../src/db/campaigns';

/**
 * Contact import (`POST /api/campaigns/:id/contacts` and `importContacts`): CSV (text/csv and multipart, streamed),
 * JSON; E.164 with the campaign's defaultRegion; line-numbered rejects; duplicates merged; zones from the column or
 * the number; DNC-listed numbers stored suppressed; completed/cancelled campaigns refuse.
 */
describe('campaign contact import', () => {
  let db: Knex;
  let agentId: string;
  let srv: Awaited<ReturnType<typeof serveRoutes>>;

  const post = async (id: string, body: string | FormData, contentType?: string, role = 'supervisor') => {
    const headers: Record<string, string> = { 'x-test-role': role };
    if (contentType) headers['content-type'] = contentType;
    const res = await fetch(`${srv.base}/api/campaigns/${id}/contacts`, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as any };
  };
  const contact = (campaignId: string, phone: string) => db('campaign_contacts').where({ campaign_id: campaignId, phone }).first();

  beforeAll(async () => {
    db = await setupTestDb();
    agentId = await createTestAgent(db);
    srv = await serveRoutes(campaignContactRoutes({ db }));
  });
  afterAll(async () => {
    await srv.close();
    await db.destroy();
  });

  it('imports a CSV: E.164 with the defaultRegion, other columns as variables, line-numbered rejects, zones from the column or the number', async () => {
    const c = await createTestCampaign(db, agentId);
    const csv = [
      'Phone,Name,Timezone,First Name,Plan',
      '(415) 555-0123,Ada,,Ada,gold', // line 2: national number read as US → LA zone from the number
      '+44 20 7946 0018,Grace,Europe/London,Grace,', // line 3: explicit zone; empty cell → no variable
      '12,Bad,,,', // line 4: too short
      '+1 800 555 0100,Toll,,,', // line 5: the +1 800 prefix spans many zones
      '+12125550188,Tz,Mars/Olympus,,', // line 6: invalid zone
      '+12125550199,Short', // line 7: wrong field count
      '"+1 212 555 0177","Quoted, Name",,"multi',
      'line",x', // lines 8-9: one record with a line break inside quotes
    ].join('\n');
    const r = await post(c.id, csv, 'text/csv');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      accepted: 4,
      duplicates: 0,
      suppressed: 0,
      rejectedCount: 3,
      rejected: [
        { line: 4, reason: expect.stringContaining('phone "12"') },
        { line: 6, reason: expect.stringContaining('Mars/Olympus is not an IANA time zone') },
        { line: 7, reason: 'expected 5 fields, found 2' },
      ],
    });
    const ada = await contact(c.id, '+14155550123');
    expect(ada).toMatchObject({ name: 'Ada', timezones: ['America/Los_Angeles'], variables: { first_name: 'Ada', plan: 'gold' }, state: 'pending', source_line: 2 });
    expect(await contact(c.id, '+442079460018')).toMatchObject({ timezones: ['Europe/London'], variables: { first_name: 'Grace' } });
    const toll = await contact(c.id, '+18005550100');
    expect(toll.timezones.length).toBeGreaterThan(1);
    expect(toll.timezones).toEqual(expect.arrayContaining(['America/New_York', 'America/Los_Angeles', 'Pacific/Honolulu']));
    expect(await contact(c.id, '+12125550177')).toMatchObject({ name: 'Quoted, Name', timezones: ['America/New_York'], variables: { first_name: 'multi\nline', plan: 'x' }, source_line: 9 });
  });

  it('takes a multipart file and JSON; duplicates (in the file and against stored contacts) merge, later values win', async () => {
    const c = await createTestCampaign(db, agentId);
    const form = new FormData();
    form.append('file', new Blob(['phone,name,city\n+14155550140,First,Paris\n415-555-0140,,Rome\n+14155550141,Other,Oslo\n'], { type: 'text/csv' }), 'list.csv');
    const m = await post(c.id, form);
    expect(m.status).toBe(200);
    expect(m.body).toMatchObject({ accepted: 3, duplicates: 1, rejectedCount: 0 });
    expect(await contact(c.id, '+14155550140')).toMatchObject({ name: 'First', variables: { city: 'Rome' }, source_line: 2 });

    const j = await post(c.id, JSON.stringify({ contacts: [{ phone: '+1 415 555 0141', name: 'Renamed', variables: { 'Order ID': '42' } }, { phone: 'nope' }, { phone: '+14155550142', timezone: 'America/Denver', language: 'es' }] }), 'application/json');
    expect(j.status).toBe(200);
    expect(j.body).toEqual({ accepted: 2, duplicates: 1, suppressed: 0, rejectedCount: 1, rejected: [{ line: 2, reason: expect.stringContaining('phone "nope"') }] });
    expect(await contact(c.id, '+14155550141')).toMatchObject({ name: 'Renamed', variables: { city: 'Oslo', order_id: '42' } });
    expect(await contact(c.id, '+14155550142')).toMatchObject({ timezones: ['America/Denver'], language: 'es' });
    expect(Number((await db('campaign_contacts').where({ campaign_id: c.id }).count({ n: '*' }))[0].n)).toBe(3);
    const audit = await db('audit_log').where({ entity_type: 'campaign', entity_id: c.id }).orderBy('id').select('action', 'after', 'actor_id');
    expect(audit).toEqual([
      { action: 'campaign.contacts_import', actor_id: 'test-supervisor', after: { source: 'list.csv', accepted: 3, duplicates: 1, suppressed: 0, rejectedCount: 0 } },
      { action: 'campaign.contacts_import', actor_id: 'test-supervisor', after: { source: 'json', accepted: 2, duplicates: 1, suppressed: 0, rejectedCount: 1 } },
    ]);
  });

  it('stores DNC-listed numbers suppressed and counts them', async () => {
    const c = await createTestCampaign(db, agentId);
    const listed = randomUsPhone();
    await new DncRepo(db).add({ number: listed, source: 'api', provenance: {} });
    const r = await post(c.id, `phone\n${listed}\n${randomUsPhone()}\n`, 'text/csv');
    expect(r.body).toMatchObject({ accepted: 2, suppressed: 1 });
    expect((await contact(c.id, listed)).state).toBe('suppressed');
  });

  it('answers 400 for an unreadable CSV (no phone column, broken quoting) and changes nothing; 415 for other types', async () => {
    const c = await createTestCampaign(db, agentId);
    const noPhone = await post(c.id, 'name,city\nAda,Paris\n', 'text/csv');
    expect(noPhone.status).toBe(400);
    expect(noPhone.body.error).toMatch(/phone column/);
    const broken = await post(c.id, `phone,name\n${randomUsPhone()},ok\n"+14155550150,unterminated\n`, 'text/csv');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatch(/not valid CSV/);
    expect(Number((await db('campaign_contacts').where({ campaign_id: c.id }).count({ n: '*' }))[0].n)).toBe(0);
    expect((await post(c.id, 'phone\n+14155550150\n', 'text/plain')).status).toBe(415);
    const noFile = new FormData();
    noFile.append('note', 'x');
    expect((await post(c.id, noFile)).status).toBe(400);
    expect((await post(c.id, JSON.stringify({ contacts: [] }), 'application/json')).status).toBe(400);
  });

  it('accepts contacts while draft, running or paused; 409 when completed or cancelled; 404 unknown; viewer 403', async () => {
    const c = await createTestCampaign(db, agentId);
    const campaigns = new CampaignsRepo(db);
    for (const state of ['running', 'paused'] as const) {
      await campaigns.setState(c.id, state);
      expect((await post(c.id, `phone\n${randomUsPhone()}\n`, 'text/csv')).status).toBe(200);
    }
    for (const state of ['completed', 'cancelled'] as const) {
      await campaigns.setState(c.id, state);
      const r = await post(c.id, `phone\n${randomUsPhone()}\n`, 'text/csv');
      expect([r.status, r.body.error]).toEqual([409, `a ${state} campaign takes no new contacts`]);
    }
    expect((await post('no-such-campaign', 'phone\n+14155550150\n', 'text/csv')).status).toBe(404);
    expect((await post(c.id, 'phone\n+14155550150\n', 'text/csv', 'viewer')).status).toBe(403);
  });

  it('refuses an upload over contactsUploadMaxBytes with 413 (Content-Length, chunked text/csv, multipart) and imports nothing', async () => {
    const cap = 4_096;
    const small = await serveRoutes(campaignContactRoutes({ db, contactsUploadMaxBytes: cap }));
    try {
      const rowsOf = (n: number) => ['phone,name', ...Array.from({ length: n }, (_, i) => `+1415${String(5_550_000 + i)},Name ${i}`)].join('\n') + '\n';
      const big = rowsOf(300); // ~7.5 kB: the first rows are valid and would be imported if the import kept what it read
      expect(Buffer.byteLength(big)).toBeGreaterThan(cap);
      const send = async (id: string, body: string | FormData | ReadableStream, headers: Record<string, string> = {}) => {
        const res = await fetch(`${small.base}/api/campaigns/${id}/contacts`, { method: 'POST', headers: { 'x-test-role': 'supervisor', ...headers }, body, duplex: 'half' } as RequestInit);
        return { status: res.status, body: (await res.json()) as any };
      };
      const count = async (id: string) => Number((await db('campaign_contacts').where({ campaign_id: id }).count({ n: '*' }))[0].n);
      const tooLarge = { error: expect.stringContaining(`larger than ${cap} bytes`) };

      const declared = await createTestCampaign(db, agentId);
      expect(await send(declared.id, big, { 'content-type': 'text/csv' })).toMatchObject({ status: 413, body: tooLarge });
      // Chunked (no Content-Length): the limit is met mid-stream, after rows were read; the import rolls back.
      const chunked = await createTestCampaign(db, agentId);
      const stream = Readable.toWeb(Readable.from(big.match(/[\s\S]{1,512}/g)!.map((c) => Buffer.from(c)))) as ReadableStream;
      expect(await send(chunked.id, stream, { 'content-type': 'text/csv' })).toMatchObject({ status: 413, body: tooLarge });
      const multipart = await createTestCampaign(db, agentId);
      const form = new FormData();
      form.append('file', new Blob([big], { type: 'text/csv' }), 'big.csv');
      expect(await send(multipart.id, form)).toMatchObject({ status: 413, body: tooLarge });
      for (const c of [declared, chunked, multipart]) expect([c.id, await count(c.id)]).toEqual([c.id, 0]);

      // At the cap exactly: imported (the limit is inclusive), as text/csv and as a multipart file.
      const header = 'phone,name\n';
      const fits = header + rowsOf(300).slice(header.length, cap - 1).replace(/[^\n]*$/, '').padEnd(cap - header.length, '\n');
      expect(Buffer.byteLength(fits)).toBe(cap);
      const ok = await createTestCampaign(db, agentId);
      const r = await send(ok.id, fits, { 'content-type': 'text/csv' });
      expect(r.status).toBe(200);
      expect(r.body.accepted).toBeGreaterThan(100);
      expect(await count(ok.id)).toBe(r.body.accepted);
      const okForm = new FormData();
      okForm.append('file', new Blob([fits], { type: 'text/csv' }), 'fits.csv');
      const okMultipart = await createTestCampaign(db, agentId);
      expect(await send(okMultipart.id, okForm)).toMatchObject({ status: 200, body: { accepted: r.body.accepted } });
    } finally {
      await small.close();
    }
  });

  it('streams 5,000 rows in batches (several regions, invalid and duplicate rows) with exact counts', async () => {
    const c = await createTestCampaign(db, agentId);
    const lines = ['phone,name,timezone,order_id'];
    let invalid = 0;
    for (let i = 0; i < 5000; i++) {
      if (i % 250 === 7) {
        lines.push(`12${i},bad,,${i}`);
        invalid++;
      } else if (i % 3 === 0) lines.push(`+44 20 7946 ${String(i % 1000).padStart(4, '0')},uk,,${i}`);
      else lines.push(`(415) 2${String(i % 1700).padStart(2, '0').padStart(6, '0')},us,,${i}`);
    }
    const distinct = new Set<string>();
    const rows = lines.slice(1).filter((l) => !l.startsWith('12'));
    for (const l of rows) distinct.add(l.split(',')[0].replace(/\D/g, ''));
    async function* input() {
      for await (const r of csvRows(Readable.from(lines.map((l) => `${l}\n`)), { required: ['phone'] })) yield 'error' in r ? r : contactFromCsv(r);
    }
    const r = await importContacts(db, { id: c.id, defaultRegion: 'US' }, input(), { batchSize: 300, maxRejected: 5 });
    expect(r.rejectedCount).toBe(invalid);
    expect(r.rejected).toHaveLength(5);
    expect(r.rejected[0].line).toBe(9); // data row i=7 is line 9
    expect(r.accepted).toBe(5000 - invalid);
    expect(r.duplicates).toBe(r.accepted - distinct.size);
    expect(Number((await db('campaign_contacts').where({ campaign_id: c.id }).count({ n: '*' }))[0].n)).toBe(distinct.size);
    // The last row of each duplicated number wins its variables.
    const last = rows.filter((l) => l.startsWith('+44 20 7946 0999')).pop()!.split(',')[3];
    expect((await contact(c.id, '+442079460999')).variables.order_id).toBe(last);
  });

  it('Idempotency-Key (JSON): a repeat answers the first result without importing again; another body → 422; CSV with a key → 400', async () => {
    const c = await createTestCampaign(db, agentId);
    const send = async (body: unknown, key: string, contentType = 'application/json') => {
      const res = await fetch(`${srv.base}/api/campaigns/${c.id}/contacts`, { method: 'POST', headers: { 'x-test-role': 'supervisor', 'content-type': contentType, 'idempotency-key': key }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const phone = randomUsPhone();
    const body = { contacts: [{ phone, variables: { plan: 'gold' } }] };
    const first = await send(body, 'key-1');
    expect(first).toEqual({ status: 200, body: { accepted: 1, rejected: [], rejectedCount: 0, duplicates: 0, suppressed: 0 } });
    await db('campaign_contacts').where({ campaign_id: c.id, phone }).update({ variables: JSON.stringify({ plan: 'changed' }) });
    const again = await send(body, 'key-1');
    expect(again).toEqual(first); // not `duplicates: 1`: nothing ran
    expect((await contact(c.id, phone)).variables).toEqual({ plan: 'changed' });
    expect(await db('audit_log').where({ entity_id: c.id, action: 'campaign.contacts_import' }).count('* as n').first()).toEqual({ n: '1' });
    expect((await send({ contacts: [{ phone: randomUsPhone() }] }, 'key-1')).status).toBe(422);
    expect((await send('phone\n+14155550123\n', 'key-2', 'text/csv')).status).toBe(400);
    // Another campaign may use the same key.
    const other = await createTestCampaign(db, agentId);
    const res = await fetch(`${srv.base}/api/campaigns/${other.id}/contacts`, { method: 'POST', headers: { 'x-test-role': 'supervisor', 'content-type': 'application/json', 'idempotency-key': 'key-1' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
  });
});
