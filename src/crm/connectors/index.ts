import { z } from 'zod';
import { CrmError, type CrmConnector } from '../connector';
import { createHubspotConnector, hubspotCredentialsSchema, hubspotSettingsSchema } from './hubspot';
import { createSalesforceConnector, salesforceCredentialsSchema } from './salesforce';

/** Salesforce's non-secret settings: the REST API version without the `v` (e.g. `62.0`; default in salesforce.ts). */
export const salesforceSettingsSchema = z.object({ apiVersion: z.string().regex(/^\d{2,3}\.0$/, 'apiVersion is like 62.0').optional() }).strict();

/** Connector kinds stored in `crm_connectors.kind`. */
export const CRM_KINDS = ['hubspot', 'salesforce'] as const;
export type CrmKindName = (typeof CRM_KINDS)[number];

/** What the connector factory needs from a stored connector. */
export interface ConnectorSpec {
  kind: CrmKindName;
  /** Non-secret settings (jsonb). */
  settings: Record<string, unknown>;
}

export interface ConnectorOptions {
  /** Per-request timeout (ms). Default 10 000. */
  timeoutMs?: number;
}

/**
 * Every URL a connector sends its credentials to, with where it is stored: HubSpot `settings.basePath`, Salesforce
 * `credentials.instanceUrl` (part of the OAuth credentials), and a `settings.instanceUrl` if one is stored. Each must
 * pass the webhook SSRF guard (src/webhooks/ssrf.ts, WEBHOOK_ALLOW_PRIVATE_HOSTS) before any request: at create /
 * update, in "test connection" and before every sync. Non-string values are skipped (the schemas reject them).
 */
export function connectorUrls(settings: Record<string, unknown>, credentials: unknown): Array<{ where: string; url: string }> {
  const out: Array<{ where: string; url: string }> = [];
  for (const key of ['basePath', 'instanceUrl']) if (typeof settings[key] === 'string') out.push({ where: `settings.${key}`, url: settings[key] as string });
  const c = credentials && typeof credentials === 'object' ? (credentials as Record<string, unknown>) : {};
  if (typeof c.instanceUrl === 'string') out.push({ where: 'credentials.instanceUrl', url: c.instanceUrl });
  return out;
}

/**
 * The zod schemas of a kind's credentials and settings, or null when this build has no connector of that kind.
 */
export function connectorSchemas(kind: CrmKindName): { credentials: z.ZodType; settings: z.ZodType } | null {
  switch (kind) {
    case 'hubspot':
      return { credentials: hubspotCredentialsSchema, settings: hubspotSettingsSchema };
    case 'salesforce':
      return { credentials: salesforceCredentialsSchema, settings: salesforceSettingsSchema };
  }
}

/**
 * Builds the connector of a stored row from its decrypted credentials (validated here per kind).
 * @throws CrmError('invalid') when the credentials or settings do not match the kind's schema (e.g. a row written
 *   by an older version), or when the kind is not available in this build.
 */
export function createConnector(row: ConnectorSpec, decryptedCredentials: unknown, opts: ConnectorOptions = {}): CrmConnector {
  switch (row.kind) {
    case 'hubspot': {
      const creds = hubspotCredentialsSchema.safeParse(decryptedCredentials);
      if (!creds.success) throw new CrmError('invalid', 'the stored HubSpot credentials are not a private app token: set them again');
      const settings = hubspotSettingsSchema.safeParse(row.settings ?? {});
      if (!settings.success) throw new CrmError('invalid', `the HubSpot settings are invalid: ${settings.error.issues[0]?.message}`);
      return createHubspotConnector(creds.data, settings.data, opts);
    }
    case 'salesforce': {
      const creds = salesforceCredentialsSchema.safeParse(decryptedCredentials);
      if (!creds.success) throw new CrmError('invalid', 'the stored Salesforce credentials are not an instance URL and access token: set them again');
      const settings = salesforceSettingsSchema.safeParse(row.settings ?? {});
      if (!settings.success) throw new CrmError('invalid', `the Salesforce settings are invalid: ${settings.error.issues[0]?.message}`);
      return createSalesforceConnector(creds.data, settings.data, opts);
    }
    default:
      throw new CrmError('invalid', `unknown CRM connector kind '${String((row as { kind: unknown }).kind)}'`);
  }
}
