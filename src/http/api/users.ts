import { z } from 'zod';
import { DuplicateEmailError } from '../../db/users';
import { Accounts, LastAdminError, userView } from '../auth/accounts';
import { passwordProblem } from '../auth/passwords';
import type { Principal } from '../auth/principal';
import { ApiError, defineRoute, errorSchema, reply, type ApiRoute } from './route';
import { emailSchema, idParams, passwordField, roleSchema, USER_EXAMPLE, userSchema } from './account-schemas';

export const createUserBody = z
  .strictObject({ email: emailSchema, password: passwordField, role: roleSchema })
  .superRefine((b, ctx) => {
    const problem = passwordProblem(b.password, b.email);
    if (problem) ctx.addIssue({ code: 'custom', path: ['password'], message: problem });
  })
  .meta({ id: 'CreateUser' });

export const updateUserBody = z
  .strictObject({ role: roleSchema.optional(), password: passwordField.optional(), disabled: z.boolean().optional() })
  .refine((b) => b.role !== undefined || b.password !== undefined || b.disabled !== undefined, 'give at least one of role, password, disabled')
  .superRefine((b, ctx) => {
    const problem = b.password !== undefined ? passwordProblem(b.password) : null;
    if (problem) ctx.addIssue({ code: 'custom', path: ['password'], message: problem });
  })
  .meta({ id: 'UpdateUser' });

const actorOf = (p: Principal) => ({ kind: p.kind, id: p.id, label: p.label });
const one = z.object({ user: userSchema });
const notFound = (id: string) => new ApiError(404, `user ${id} not found`);

/**
 * `/api/users` (admin only): list, create (`{ email, password, role }`; 409 when the email exists; the password must
 * pass `passwordProblem`: ≥ 12 characters, not trivial), get, PATCH `{ role?, password?, disabled? }`, DELETE
 * (= disable; the user's sessions stop at once). Demoting or disabling the last enabled admin → 409. Every change is
 * audited in its transaction (`user.create`, `user.update`, `user.disable`); no response or audit entry ever holds
 * a password or hash.
 */
export function userRoutes(accounts: Accounts): ApiRoute<any, any, any>[] {
  const conflict = (err: unknown): never => {
    if (err instanceof LastAdminError || err instanceof DuplicateEmailError) throw new ApiError(409, err.message);
    throw err;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/api/users',
      role: 'admin',
      tag: 'users',
      summary: 'List users',
      responses: { 200: { description: 'Every user, by email.', schema: z.object({ users: z.array(userSchema) }) } },
      examples: { response: { users: [USER_EXAMPLE] } },
      handler: async () => ({ users: (await accounts.users.list()).map(userView) }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/users',
      role: 'admin',
      tag: 'users',
      summary: 'Create a user',
      body: createUserBody,
      responses: { 201: { description: 'Created (`Location` names it).', schema: one }, 409: { description: 'The email is taken.', schema: errorSchema } },
      examples: { body: { email: 'ana@example.com', password: 'correct horse battery staple', role: 'supervisor' as const }, response: { user: USER_EXAMPLE } },
      handler: async ({ body, principal }) => {
        const user = await accounts.createUser(body, actorOf(principal)).catch(conflict);
        return reply(201, { user: userView(user) }, { Location: `/api/users/${user.id}` });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/users/:id',
      role: 'admin',
      tag: 'users',
      summary: 'Get a user',
      params: idParams,
      responses: { 200: { description: 'The user.', schema: one }, 404: { description: 'No such user.', schema: errorSchema } },
      examples: { response: { user: USER_EXAMPLE } },
      handler: async ({ params }) => {
        const user = await accounts.users.get(params.id);
        if (!user) throw notFound(params.id);
        return { user: userView(user) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/users/:id',
      role: 'admin',
      tag: 'users',
      summary: 'Change a user’s role, password or disabled state',
      description: 'A new password or `disabled: true` ends the user’s sessions. Leaving no enabled admin → 409.',
      params: idParams,
      body: updateUserBody,
      responses: {
        200: { description: 'The user after the change.', schema: one },
        404: { description: 'No such user.', schema: errorSchema },
        409: { description: 'It would leave no enabled admin.', schema: errorSchema },
      },
      examples: { body: { role: 'viewer' as const }, response: { user: { ...USER_EXAMPLE, role: 'viewer' } } },
      handler: async ({ params, body, principal }) => {
        const user = await accounts.updateUser(params.id, body, actorOf(principal)).catch(conflict);
        if (!user) throw notFound(params.id);
        return { user: userView(user) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/users/:id',
      role: 'admin',
      tag: 'users',
      summary: 'Disable a user (their sessions stop working; the row and its audit history stay)',
      params: idParams,
      responses: {
        204: { description: 'Disabled (also when it already was).' },
        404: { description: 'No such user.', schema: errorSchema },
        409: { description: 'It is the last enabled admin.', schema: errorSchema },
      },
      handler: async ({ params, principal }) => {
        const user = await accounts.updateUser(params.id, { disabled: true }, actorOf(principal)).catch(conflict);
        if (!user) throw notFound(params.id);
        return reply(204);
      },
    }),
  ];
}
