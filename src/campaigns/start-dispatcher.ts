import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { DispatchRepo } from '../db/dispatch';
import { AuditRepo } from '../db/audit';
import { UsageRepo } from '../db/usage';
import { DialBreaker } from './breaker';
import { UsageBudgets } from './budget';
import { inProgressLeaseMs, TwilioDialer } from './dialer';
import { Dispatcher } from './dispatcher';
import { DialPacer } from './pacing';

/** The monthly usage budgets as configured (USAGE_BUDGETS_JSON, priced with the config's table). */
export function usageBudgets(d: { config: Readonly<Config>; db: Knex; logger: Logger }): UsageBudgets {
  return new UsageBudgets({ usage: new UsageRepo(d.db, d.config.usage.prices), audit: new AuditRepo(d.db), budgets: d.config.usage.budgets, logger: d.logger });
}

/**
 * The Twilio dialer as configured (TWILIO_*, PUBLIC_BASE_URL, TWILIO_API_BASE_URL, RING_TIMEOUT_S, DIAL_BREAKER_*, USAGE_BUDGETS_JSON):
 * used by the dispatcher and by `POST /api/calls`.
 */
export function createTwilioDialer(d: { config: Readonly<Config>; db: Knex; logger: Logger; repo?: DispatchRepo; budgets?: UsageBudgets }): TwilioDialer {
  const { config } = d;
  const repo = d.repo ?? new DispatchRepo(d.db);
  return new TwilioDialer({
    db: d.db,
    accountSid: config.twilio.accountSid,
    authToken: config.twilio.authToken,
    publicBaseUrl: config.publicBaseUrl,
    apiBaseUrl: config.outbound.twilioApiBaseUrl,
    ringTimeoutS: config.outbound.ringTimeoutS,
    inProgressLeaseMs: inProgressLeaseMs(config.outbound.ringTimeoutS, config.engine.maxCallDurationMs),
    breaker: new DialBreaker(repo, config.outbound.breaker, d.logger),
    budget: d.budgets ?? usageBudgets({ config, db: d.db, logger: d.logger }),
    logger: d.logger,
  });
}

/**
 * Builds and starts the campaign dispatcher of a worker process from Config (OUTBOUND_MAX_CONCURRENT, DIAL_LEASE_MS,
 * DISPATCH_INTERVAL_MS, RING_TIMEOUT_S, TWILIO_API_BASE_URL, DIAL_BREAKER_*): the Twilio dialer, the Redis CPS pacer
 * (keys under `<QUEUE_PREFIX>:dial-pace:`) and a unique owner id (`host-pid-random`). Stop it with `stop()`.
 */
export function startDispatcher(d: { config: Readonly<Config>; db: Knex; redis: Redis; logger: Logger }): Dispatcher {
  const { config } = d;
  const repo = new DispatchRepo(d.db);
  const owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`.slice(0, 64);
  const dialer = createTwilioDialer({ ...d, repo });
  const dispatcher = new Dispatcher({
    repo,
    dialer,
    pacer: new DialPacer(d.redis, config.queuePrefix),
    owner,
    leaseMs: config.outbound.dialLeaseMs,
    intervalMs: config.outbound.dispatchIntervalMs,
    globalMax: config.outbound.maxConcurrent,
    logger: d.logger,
  });
  dispatcher.start();
  d.logger.info({ owner, globalMax: config.outbound.maxConcurrent }, 'campaign dispatcher started');
  return dispatcher;
}
