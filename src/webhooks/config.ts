import type { Config } from '../config';
import { SecretBox } from './secret-box';
import { ssrfPolicy, type Resolver, type SsrfPolicy } from './ssrf';

/**
 * The webhook secret box (null when Config.webhooks.secretsKey is null: production without WEBHOOK_SECRETS_KEY)
 * and the SSRF policy (WEBHOOK_ALLOW_PRIVATE_HOSTS; `resolver` injected in tests), shared by the API and the worker.
 * @throws Error when an allow-list CIDR is malformed.
 */
export function webhookApiDeps(config: Pick<Config, 'webhooks'>, resolver?: Resolver): { box: SecretBox | null; policy: SsrfPolicy } {
  return { box: config.webhooks.secretsKey ? new SecretBox(config.webhooks.secretsKey) : null, policy: ssrfPolicy(config.webhooks.allowPrivateHosts, resolver) };
}

/**
 * The native CRM connectors' credentials box (null when Config.crm.credentialsKey is null: production without
 * CRM_CREDENTIALS_KEY) and the SSRF policy their URL settings pass, shared by the API and the connector-sync job.
 */
export function crmConnectorDeps(config: Pick<Config, 'webhooks' | 'crm'>, resolver?: Resolver): { box: SecretBox | null; policy: SsrfPolicy; timeoutMs: number } {
  return { box: config.crm.credentialsKey ? new SecretBox(config.crm.credentialsKey) : null, policy: ssrfPolicy(config.webhooks.allowPrivateHosts, resolver), timeoutMs: config.crm.connectorTimeoutMs };
}
