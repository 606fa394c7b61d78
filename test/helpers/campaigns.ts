import type { Knex } from 'knex';
import { AgentsRepo, type AgentInput } from '../../src/db/agents';
import { CampaignsRepo } from '../../src/db/campaigns';
import { campaignCreateSchema, type Campaign } from '../../src/domain/campaign';
import { uniqueSid } from './db';

/** Creates an agent with a unique id (archived when asked); returns its id. */
export async function createTestAgent(db: Knex, o: { archived?: boolean; tag?: string } = {}): Promise<string> {
  const id = uniqueSid(o.tag ?? 'cag-');
  const agent: AgentInput = { id, name: id, systemPrompt: 'x', firstMessage: 'Hello {{first_name}}', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false };
  const repo = new AgentsRepo(db);
  await repo.upsert(agent);
  if (o.archived) await repo.setArchived(id, true);
  return id;
}

/** A valid create body for `agentId` (Mon–Fri 09:00–20:00, caller ID +14155550100, region US unless overridden). */
export function campaignBody(agentId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'Test campaign', agentId, callerIds: ['+14155550100'], defaultRegion: 'US', window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '20:00' }, maxConcurrent: 2, cps: 1, ...over };
}

/** Creates a draft campaign directly in the database. */
export async function createTestCampaign(db: Knex, agentId: string, over: Record<string, unknown> = {}): Promise<Campaign> {
  return new CampaignsRepo(db).create(campaignCreateSchema.parse(campaignBody(agentId, over)));
}

/** A random valid US number in area code 415 (E.164), distinct per call with high probability. */
export function randomUsPhone(): string {
  return `+1415${2 + Math.floor(Math.random() * 8)}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
}
