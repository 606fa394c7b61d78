import { ServerResponse, type IncomingMessage, type RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { UpgradeHandler } from '../../telephony/upgrade-routes';

interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
  res: ServerResponse;
}

const pending = new WeakMap<IncomingMessage, PendingUpgrade>();

/**
 * Runs a WebSocket upgrade request through the express app like any request, so it meets the same middleware as the
 * REST API (per-IP rate limit, the session cookie, API-key / session authentication, per-principal rate limit) and
 * is refused the same way: an error answer (401, 403, 429… with its JSON body) is written to the raw socket as an
 * ordinary HTTP response, then the socket is closed. A route that accepts the upgrade takes the socket with
 * {@link takeUpgrade} and completes the handshake itself (e.g. `ws`'s `handleUpgrade`); nothing is written for it.
 */
export function upgradeThroughApp(app: RequestListener): UpgradeHandler {
  return (req, socket, head) => {
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', () => {
      res.detachSocket(socket as Socket);
      socket.end();
    });
    pending.set(req, { socket, head, res });
    app(req, res);
  };
}

/** True when `req` is an upgrade that {@link upgradeThroughApp} is routing and no route has taken yet. */
export function hasPendingUpgrade(req: IncomingMessage): boolean {
  return pending.has(req);
}

/**
 * The raw socket and first bytes of an upgrade that {@link upgradeThroughApp} is routing, detached from the
 * response (which must then not be used); null for a plain HTTP request (or an upgrade already taken).
 */
export function takeUpgrade(req: IncomingMessage): { socket: Duplex; head: Buffer } | null {
  const p = pending.get(req);
  if (!p) return null;
  pending.delete(req);
  p.res.removeAllListeners('finish');
  p.res.detachSocket(p.socket as Socket);
  return { socket: p.socket, head: p.head };
}
