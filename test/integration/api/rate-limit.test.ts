import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import pino from 'pino';
import { setupTestDb } from '../../helpers/db';
import { createApp } from '../../../src/http/app';
import { createApiRouter } from '../../../src/http/routes/api';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo } from '../../../src/db/agents';

describe('REST API rate limit', () => {
  let db: Knex;
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    db = await setupTestDb();
    const app = createApp({ logger: pino({ level: 'silent' }), routers: [createApiRouter({ calls: new CallsRepo(db), agents: new AgentsRepo(db), apiKey: 'rate-limit-key', requestsPerMinute: 3 })] });
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await db.destroy();
  });

  it('answers 429 past the per-minute limit, also for wrong keys (no brute force)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${base}/api/agents`, { headers: { authorization: i === 1 ? 'Bearer wrong' : 'Bearer rate-limit-key' } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 401, 200, 429]);
  });
});
