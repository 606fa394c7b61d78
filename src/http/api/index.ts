import type { Knex } from 'knex';
import type { CallsRepo } from '../../db/calls';
import { agentRoutes } from './agents';
import { auditRoutes } from './audit';
import { callRoutes } from './calls';
import { knowledgeDocRoutes } from './knowledge-docs';
import { phoneNumberRoutes } from './phone-numbers';
import type { ApiRoute } from './route';

/**
 * The management API's resource routes (agents, phone numbers, calls, audit, and the knowledge routes documented
 * here but served by the knowledge router). `createApiRouter` adds the account routes (login, me, users, API keys)
 * and the OpenAPI routes, and mounts them all behind authentication.
 */
export function managementRoutes(d: { db: Knex; calls: CallsRepo }): ApiRoute<any, any, any>[] {
  return [...agentRoutes(d), ...phoneNumberRoutes(d), ...callRoutes({ calls: d.calls }), ...auditRoutes(d), ...knowledgeDocRoutes()];
}
