import type { Knex } from 'knex';
import type { DialerPort } from '../../campaigns/dialer-port';
import type { CallsRepo } from '../../db/calls';
import { agentRoutes } from './agents';
import { auditRoutes } from './audit';
import { callRoutes } from './calls';
import { campaignContactRoutes } from './campaign-contacts';
import { campaignRoutes } from './campaigns';
import { dncRoutes } from './dnc';
import { knowledgeDocRoutes } from './knowledge-docs';
import { phoneNumberRoutes } from './phone-numbers';
import type { ApiRoute } from './route';
import { singleCallRoutes } from './single-call';
import { webhookEndpointRoutes } from './webhook-endpoints';
import type { SecretBox } from '../../webhooks/secret-box';
import type { SsrfPolicy } from '../../webhooks/ssrf';

/**
 * The management API's resource routes (agents, phone numbers, calls, audit, campaigns and their contacts, the DNC
 * list, single outbound calls, and the knowledge routes documented here but served by the knowledge router).
 * `createApiRouter` adds the account routes (login, me, users, API keys) and the OpenAPI routes, and mounts them all
 * behind authentication. `dialer` places single calls (`POST /api/calls`; without it that route answers 503).
 * `webhooks`: the secret box and SSRF policy of webhook endpoints (without it creating one answers 503).
 */
export function managementRoutes(d: { db: Knex; calls: CallsRepo; dialer?: DialerPort; webhooks?: { box: SecretBox | null; policy: SsrfPolicy } }): ApiRoute<any, any, any>[] {
  return [
    ...agentRoutes(d),
    ...phoneNumberRoutes(d),
    ...callRoutes({ calls: d.calls }),
    ...singleCallRoutes(d),
    ...auditRoutes(d),
    ...campaignRoutes(d),
    ...campaignContactRoutes(d),
    ...dncRoutes(d),
    ...webhookEndpointRoutes({ db: d.db, box: d.webhooks?.box ?? null, policy: d.webhooks?.policy }),
    ...knowledgeDocRoutes(),
  ];
}
