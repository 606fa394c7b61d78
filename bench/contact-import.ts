/**
 * Contact import throughput and memory (issue 11: "CSV import rows/s and peak RSS for 100,000 contacts").
 *
 * `npx tsx bench/contact-import.ts [rows] [postgres://…/admin-db]` creates a scratch database, migrates it, writes a
 * CSV of `rows` contacts (default 100,000: US, UK, German, French and Australian numbers in national and
 * international forms, ~1% invalid, ~5% duplicates, a few with a timezone column and variables) to a temp file, and
 * imports it through the API's own streaming path (`csvRows` → `contactFromCsv` → `importContacts`, batches of
 * 1,000) from a file stream. RSS is sampled every 20 ms (`process.memoryUsage().rss`). Prints one JSON line and
 * appends it to bench/results/<date>-contact-import.jsonl; drops the database and the file. Not part of npm test.
 */
import { createReadStream, createWriteStream, mkdirSync, appendFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createDb, migrateLatest } from '../src/db/knex';
import { AgentsRepo } from '../src/db/agents';
import { CampaignsRepo } from '../src/db/campaigns';
import { campaignCreateSchema } from '../src/domain/campaign';
import { csvRows } from '../src/campaigns/csv-rows';
import { contactFromCsv, importContacts } from '../src/campaigns/contact-import';

const ROWS = Number(process.argv[2] ?? 100_000);
const ADMIN = process.argv[3] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NAME = `callcenter_bench_import_${process.pid}`;

let seed = 11;
const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');

/** One CSV line's phone: several regions and writings; `i` makes most numbers distinct. */
function phone(i: number): string {
  const k = i % 5;
  const tail = String(i).padStart(6, '0').slice(-6);
  if (k === 0) return `(415) 2${tail}`; // US national (defaultRegion US)
  if (k === 1) return `+1 212 3${tail}`;
  if (k === 2) return `+44 20 7${tail.slice(0, 3)} ${tail.slice(3)}0`;
  if (k === 3) return `+49 30 9${tail}`;
  return `+61 2 9${tail}${digits(1)}`;
}

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('phone,name,timezone,First Name,order_id\n');
  for (let i = 0; i < ROWS; i++) {
    const r = rand();
    const p = r < 0.01 ? `12${i}` : r < 0.06 ? phone(Math.floor(rand() * i)) : phone(i);
    const tz = rand() < 0.05 ? 'America/Chicago' : '';
    if (!out.write(`${p},Contact ${i},${tz},Name${i},${digits(8)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${NAME}"`);
  const db = createDb(ADMIN.replace(/\/[^/]*$/, `/${NAME}`), { min: 1, max: 2 });
  const file = path.join(os.tmpdir(), `${NAME}.csv`);
  try {
    await migrateLatest(db);
    await new AgentsRepo(db).upsert({ id: 'bench', name: 'bench', systemPrompt: 'x', firstMessage: 'Hi', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false });
    const campaign = await new CampaignsRepo(db).create(
      campaignCreateSchema.parse({ name: 'bench', agentId: 'bench', callerIds: ['+14155550100'], defaultRegion: 'US', window: { days: ['mon'], start: '09:00', end: '17:00' } }),
    );
    await writeCsv(file);
    const baseRss = process.memoryUsage().rss;
    let peakRss = baseRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const t0 = process.hrtime.bigint();
    async function* input() {
      for await (const r of csvRows(createReadStream(file), { required: ['phone'] })) yield 'error' in r ? r : contactFromCsv(r);
    }
    const result = await importContacts(db, { id: campaign.id, defaultRegion: 'US' }, input());
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const stored = Number((await db('campaign_contacts').where({ campaign_id: campaign.id }).count({ n: '*' }))[0].n);
    const line = {
      bench: 'contact-import',
      at: new Date().toISOString(),
      rows: ROWS,
      seconds: +seconds.toFixed(2),
      rowsPerSecond: Math.round(ROWS / seconds),
      peakRssMb: +(peakRss / 2 ** 20).toFixed(1),
      rssGrowthMb: +((peakRss - baseRss) / 2 ** 20).toFixed(1),
      accepted: result.accepted,
      duplicates: result.duplicates,
      rejectedCount: result.rejectedCount,
      storedContacts: stored,
      node: process.version,
      cpus: os.cpus().length,
    };
    console.log(JSON.stringify(line));
    const dir = path.join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    appendFileSync(path.join(dir, `${line.at.slice(0, 10)}-contact-import.jsonl`), `${JSON.stringify(line)}\n`);
  } finally {
    rmSync(file, { force: true });
    await db.destroy();
    await admin.query(`DROP DATABASE IF EXISTS "${NAME}"`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
