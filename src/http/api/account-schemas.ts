import { z } from 'zod';
import 'zod-openapi';
import { ROLES } from '../auth/principal';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords';

/** zod schemas of the account routes (users, API keys, login, me): request validation and the OpenAPI document. */

export const roleSchema = z.enum(ROLES).meta({ id: 'Role', description: 'viewer (read only) < supervisor (agents, numbers, campaigns, calls, DNC) < admin (everything)' });

export const emailSchema = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be an email address'))
  .transform((e) => e.toLowerCase());

const when = z.iso.datetime({ offset: true });

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    role: roleSchema,
    disabled: z.boolean(),
    disabledAt: when.nullable(),
    createdAt: when,
    updatedAt: when,
    lastLoginAt: when.nullable(),
  })
  .meta({ id: 'User' });

export const USER_EXAMPLE = {
  id: '0b6f1c52-6f0e-4d59-9d0a-3a3c6f3f9a10',
  email: 'ana@example.com',
  role: 'supervisor' as const,
  disabled: false,
  disabledAt: null,
  createdAt: '2026-12-02T09:00:00.000Z',
  updatedAt: '2026-12-02T09:00:00.000Z',
  lastLoginAt: '2026-12-02T09:30:00.000Z',
};

export const principalSchema = z
  .object({
    kind: z.enum(['user', 'api_key', 'bootstrap']),
    id: z.string(),
    role: roleSchema,
    label: z.string().meta({ description: "The user's email or the key's name (what the audit log shows)." }),
  })
  .meta({ id: 'Principal' });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: roleSchema,
    prefix: z.string().meta({ description: 'First characters of the key (show as `cc_ab12cd34…`).' }),
    createdBy: z.object({ kind: z.string(), id: z.string(), label: z.string() }),
    createdAt: when,
    lastUsedAt: when.nullable(),
    revokedAt: when.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const API_KEY_EXAMPLE = {
  id: '5d1d7a4e-2f43-4a8e-8a55-0f2b1b7f0c21',
  name: 'CRM sync',
  role: 'supervisor' as const,
  prefix: 'cc_Zx81QpLm',
  createdBy: { kind: 'user', id: USER_EXAMPLE.id, label: 'admin@example.com' },
  createdAt: '2026-12-02T09:00:00.000Z',
  lastUsedAt: null,
  revokedAt: null,
};

/** A password as accepted in a body (strength is checked separately, with the email at hand). */
export const passwordField = z.string().max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);

export const idParams = z.object({ id: z.uuid('id must be a UUID') });
