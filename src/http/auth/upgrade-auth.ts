import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import express, { type Request, type RequestHandler } from 'express';
import { isSessionAuthenticated } from './authenticate';
import { allowedOrigins, requestSourceOrigin } from './csrf';
import type { Principal, Role } from './principal';
import { requireRole } from './require-role';

/** Authenticates a WebSocket upgrade: the principal, or null once a 4xx was written to the socket (then closed). */
export type UpgradeAuthenticator = (req: IncomingMessage, socket: Duplex) => Promise<Principal | null>;

/**
 * A browser WebSocket carries the session cookie on a cross-site connection too (WebSockets have no CORS), so a
 * cookie-authenticated upgrade must come from an allowed `Origin` (same rule and origins as the CSRF check,
 * src/http/auth/csrf.ts; RFC 6455 §10.2: servers should check Origin). Bearer-authenticated upgrades skip it.
 */
const originCheck =
  (publicBaseUrl: string): RequestHandler =>
  (req, res, next) => {
    if (!isSessionAuthenticated(req)) return next();
    const source = requestSourceOrigin(req);
    if (source === null || !allowedOrigins(req, publicBaseUrl).includes(source)) {
      res.status(403).json({ error: `cross-site WebSocket check failed: origin ${source ?? '(none)'} is not allowed` });
      return;
    }
    next();
  };

/**
 * Runs a WebSocket upgrade request through the API's authentication (`authChain`: session cookie or
 * `Authorization: Bearer` API key, see createApiRouter), the Origin check and the role check, on an express app
 * whose response is bound to the upgrade's socket: a refusal is the same JSON 401/403 an `/api` request gets
 * (then the socket is closed); an accepted request resolves with its principal and the socket untouched, for
 * `ws`'s handleUpgrade.
 */
export function upgradeAuthenticator(o: { authChain: ReadonlyArray<RequestHandler>; publicBaseUrl: string; role: Role; trustProxyHops?: number }): UpgradeAuthenticator {
  const accepted = new WeakMap<IncomingMessage, (p: Principal) => void>();
  const gate = express();
  gate.disable('x-powered-by');
  gate.set('trust proxy', o.trustProxyHops ?? 0);
  gate.use(...o.authChain, originCheck(o.publicBaseUrl), requireRole(o.role), (req: Request) => accepted.get(req)?.(req.principal!));
  return (req, socket) =>
    new Promise<Principal | null>((resolve) => {
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.on('finish', () => {
        socket.end();
        resolve(null);
      });
      accepted.set(req, (p) => {
        res.detachSocket(socket as Socket);
        resolve(p);
      });
      gate(req as Request, res as express.Response, (err?: unknown) => {
        res.statusCode = err ? 500 : 404;
        res.end();
      });
    });
}
