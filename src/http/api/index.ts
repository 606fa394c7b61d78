import type { Knex } from 'knex';
import type { DialerPort } from '../../campaigns/dialer-port';
import type { CallsRepo } from '../../db/calls';
import { AuditRepo } from '../../db/audit';
import { OverviewRepo } from '../../db/overview';
import { CsatAgreementRepo } from '../../db/csat-agreement';
import { UsageBudgets } from '../../campaigns/budget';
import { agentRoutes } from './agents';
import { analyticsRoutes } from './analytics';
import { csatAnalyticsRoutes } from './csat-analytics';
import { auditRoutes } from './audit';
import { callRoutes } from './calls';
import { campaignContactRoutes } from './campaign-contacts';
import { campaignRoutes } from './campaigns';
import { dncRoutes } from './dnc';
import { knowledgeDocRoutes } from './knowledge-docs';
import { phoneNumberRoutes } from './phone-numbers';
import type { ApiRoute } from './route';
import { singleCallRoutes } from './single-call';
import { usageRoutes } from './usage';
import { recordingRoutes } from './recordings';
import { RecordingsRepo } from '../../db/recordings';
import type { RecordingStorage } from '../../recordings/storage';
import { webhookEndpointRoutes } from './webhook-endpoints';
import { integrationRoutes } from './integrations';
import { inboundTriggerRoutes } from './inbound-triggers';
import { inboundTriggerReceiverRoutes } from './inbound-trigger-receivers';
import type { SecretBox } from '../../webhooks/secret-box';
import type { SsrfPolicy } from '../../webhooks/ssrf';

/**
 * The management API's resource routes (agents, phone numbers, calls, audit, campaigns and their contacts, the DNC
 * list, single outbound calls, usage / budgets and the overview analytics, call recordings (served from
 * `recordingStorage`; without it every recording is 404), and the knowledge routes documented here but served by the
 * knowledge router). `budgets`: the monthly usage budgets (absent: none configured).
 * `createApiRouter` adds the account routes (login, me, users, API keys) and the OpenAPI routes, and mounts them all
 * behind authentication. `dialer` places single calls (`POST /api/calls`; without it that route answers 503).
 * `webhooks`: the secret box and SSRF policy of webhook endpoints (without it creating one answers 503).
 * `integrations`: the credentials box, SSRF policy and request timeout of native CRM connectors (without a box, writing one answers 503).
 * `contactsUploadMaxBytes` caps a campaign's CSV contacts upload (CONTACTS_UPLOAD_MAX_BYTES).
 */
export function managementRoutes(d: { db: Knex; calls: CallsRepo; dialer?: DialerPort; budgets?: UsageBudgets; recordingStorage?: RecordingStorage; contactsUploadMaxBytes?: number; webhooks?: { box: SecretBox | null; policy: SsrfPolicy }; integrations?: { box: SecretBox | null; policy: SsrfPolicy; timeoutMs?: number } }): ApiRoute<any, any, any>[] {
  const budgets = d.budgets ?? new UsageBudgets({ usage: d.calls.usage, audit: new AuditRepo(d.db), budgets: {} });
  return [
    ...agentRoutes(d),
    ...phoneNumberRoutes(d),
    ...callRoutes({ calls: d.calls }),
    ...recordingRoutes({ recordings: new RecordingsRepo(d.db), storage: d.recordingStorage }),
    ...singleCallRoutes(d),
    ...auditRoutes(d),
    ...campaignRoutes(d),
    ...campaignContactRoutes(d),
    ...dncRoutes(d),
    ...webhookEndpointRoutes({ db: d.db, box: d.webhooks?.box ?? null, policy: d.webhooks?.policy }),
    ...integrationRoutes({ db: d.db, box: d.integrations?.box ?? null, policy: d.integrations?.policy, timeoutMs: d.integrations?.timeoutMs }),
    ...inboundTriggerRoutes({ db: d.db, box: d.webhooks?.box ?? null }),
    ...inboundTriggerReceiverRoutes(),
    ...knowledgeDocRoutes(),
    ...usageRoutes({ usage: d.calls.usage, budgets }),
    ...analyticsRoutes({ overview: new OverviewRepo(d.db) }),
    ...csatAnalyticsRoutes({ csat: new CsatAgreementRepo(d.db) }),
  ];
}
