import { listen } from '../../helpers/http';
import type { Knex } from 'knex';
import pino from 'pino';
import { setupTestDb } from '../../helpers/db';
import { createApp } from '../../../src/http/app';
import { createApiRouter } from '../../../src/http/routes/api';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo } from '../../../src/db/agents';

describe('REST API rate limit', () => {
  let db: Knex;
  let closeServer: () => Promise<void>;
  let base: string;

  beforeAll(async () => {
    db = await setupTestDb();
    const app = createApp({ logger: pino({ level: 'silent' }), routers: [createApiRouter({ calls: new CallsRepo(db), agents: new AgentsRepo(db), apiKey: 'rate-limit-key', requestsPerMinute: 3 })] });
    ({ base, close: closeServer } = await listen(app));
  });

  afterAll(async () => {
    await closeServer();
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
