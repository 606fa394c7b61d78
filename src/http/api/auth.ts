import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Session } from 'express-session';
import type { UsersRepo } from '../../db/users';
import { userView } from '../auth/accounts';
import { allowedOrigins, requestSourceOrigin } from '../auth/csrf';
import type { LoginLimiter, LoginLockout } from '../auth/login-limiter';
import { verifyAgainstDummy, verifyPassword } from '../auth/passwords';
import { retryAfterSeconds } from '../auth/rate-limit';
import { SESSION_COOKIE, SESSION_COOKIE_PATH } from '../auth/session';
import { ApiError, defineRoute, errorSchema, reply, type ApiRoute } from './route';
import { emailSchema, principalSchema, USER_EXAMPLE, userSchema } from './account-schemas';

export const loginBodySchema = z.strictObject({ email: emailSchema, password: z.string().min(1, 'required').max(1024) }).meta({ id: 'LoginRequest' });

export interface AuthRoutesDeps {
  users: UsersRepo;
  limiter: LoginLimiter;
  publicBaseUrl: string;
}

const LOCKOUT_MESSAGES: Record<LoginLockout['scope'], string> = {
  'account-ip': 'too many failed logins for this account from your address',
  account: 'too many failed logins for this account',
  ip: 'too many failed logins from your address',
};

const lockedOut = (l: LoginLockout) => {
  const s = retryAfterSeconds(l.retryAfterMs);
  return reply(429, { error: `${LOCKOUT_MESSAGES[l.scope]}; try again in ${Math.ceil(s / 60)} min` }, { 'Retry-After': String(s) });
};

const call = (fn: (cb: (err?: unknown) => void) => void): Promise<void> => new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

/** Clears the session cookie in the browser (same name, path and attributes as when it was set). */
function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { path: SESSION_COOKIE_PATH, httpOnly: true, sameSite: 'lax', secure: req.secure });
}

/**
 * `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/me`.
 *
 * Login needs no principal: createApiRouter mounts it before authentication (with `mountPublicRoute`); its CSRF
 * rule is its own (an `Origin`/`Referer`, when sent, must be an allowed origin: login CSRF would sign a victim into
 * the attacker's account). Order: lock-out check (429 + `Retry-After`, before any password work) → user lookup →
 * argon2id verify (against a dummy hash when the email is unknown or the user disabled, so timing does not tell) →
 * on failure count it (the failure that reaches a limit answers 429 already) and 401 `invalid email or password`
 * (the same for unknown, wrong and disabled) → on success clear the account counters, regenerate the session id
 * (session fixation: a session id known before login is never the logged-in one), store `userId`,
 * `sessionVersion`, `authAt` → 200 `{ user }` + `Set-Cookie: cc_session`.
 */
export function authRoutes(d: AuthRoutesDeps): ApiRoute<any, any, any>[] {
  const login = defineRoute({
    method: 'post',
    path: '/api/auth/login',
    role: 'viewer',
    tag: 'auth',
    summary: 'Log in with email and password (sets the cc_session cookie)',
    description: 'Needs no authentication. Failed logins are limited per account + IP, per account and per IP (429 with Retry-After).',
    body: loginBodySchema,
    bodyLimitBytes: 16 * 1024,
    responses: {
      200: { description: 'Logged in; the `cc_session` cookie is set (HttpOnly, SameSite=Lax, Secure on https).', schema: z.object({ user: userSchema }) },
      401: { description: 'Wrong email or password (or the account is disabled).', schema: errorSchema },
      403: { description: 'Sent from a foreign origin.', schema: errorSchema },
      503: { description: 'The session store (Redis) is unavailable.', schema: errorSchema },
    },
    examples: { body: { email: 'ana@example.com', password: 'correct horse battery staple' }, response: { user: USER_EXAMPLE } },
    handler: async ({ req, body }) => {
      const source = requestSourceOrigin(req);
      if ((req.get('origin') !== undefined || req.get('referer') !== undefined) && (source === null || !allowedOrigins(req, d.publicBaseUrl).includes(source))) {
        throw new ApiError(403, 'cross-site request check failed: log in from this site');
      }
      if (!req.session) throw new ApiError(503, 'sessions are unavailable right now; try again shortly');
      const ip = req.ip ?? 'unknown';
      const lock = await d.limiter.check(body.email, ip);
      if (lock) return lockedOut(lock);
      const user = await d.users.findByEmailWithHash(body.email);
      const ok = user && !user.disabledAt ? await verifyPassword(user.passwordHash, body.password) : await verifyAgainstDummy(body.password);
      if (!ok || !user) {
        const now = await d.limiter.fail(body.email, ip);
        req.log?.info({ locked: now?.scope ?? null }, 'login failed');
        if (now) return lockedOut(now);
        throw new ApiError(401, 'invalid email or password');
      }
      await d.limiter.succeed(body.email, ip);
      const s: Session = req.session;
      await call((cb) => s.regenerate(cb));
      req.session.userId = user.id;
      req.session.sessionVersion = user.sessionVersion;
      req.session.authAt = Date.now();
      await call((cb) => req.session.save(cb));
      await d.users.touchLogin(user.id);
      req.log?.info({ userId: user.id }, 'login');
      return { user: userView({ ...user, lastLoginAt: new Date() }) };
    },
  });

  const logout = defineRoute({
    method: 'post',
    path: '/api/auth/logout',
    role: 'viewer',
    tag: 'auth',
    summary: 'Log out (ends the session; a no-op for API keys)',
    responses: { 204: { description: 'The session is destroyed and the cookie cleared.' } },
    handler: async ({ req, res }) => {
      const s = req.session;
      if (s?.userId) {
        await call((cb) => s.destroy(cb));
        clearSessionCookie(req, res);
      }
      return reply(204);
    },
  });

  const me = defineRoute({
    method: 'get',
    path: '/api/me',
    role: 'viewer',
    tag: 'auth',
    summary: 'Who am I: the principal (user, API key or bootstrap key) and, for a user, the account',
    responses: { 200: { description: 'The caller.', schema: z.object({ principal: principalSchema, user: userSchema.optional() }) } },
    examples: { response: { principal: { kind: 'user', id: USER_EXAMPLE.id, role: 'supervisor', label: USER_EXAMPLE.email }, user: USER_EXAMPLE } },
    handler: async ({ principal }) => {
      const user = principal.kind === 'user' ? await d.users.get(principal.id) : null;
      return { principal: { kind: principal.kind, id: principal.id, role: principal.role, label: principal.label }, ...(user ? { user: userView(user) } : {}) };
    },
  });

  return [login, logout, me];
}
