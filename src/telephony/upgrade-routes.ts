import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Handles one WebSocket upgrade request whose path it matched (accepts with `ws`'s handleUpgrade, or refuses). */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** A path matcher: an exact pathname, or a predicate of the pathname (no query string). */
export type UpgradePath = string | ((pathname: string) => boolean);

interface UpgradeRoutes {
  /** Routes upgrades of `path` to `handler`. @returns its removal. */
  add(path: UpgradePath, handler: UpgradeHandler): () => void;
}

const routers = new WeakMap<Server, UpgradeRoutes>();

/** Answers an upgrade request with a plain HTTP status and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The one `upgrade` listener of an http server, dispatching by path: each WebSocket server (Twilio media streams,
 * the supervisors' listen-in, the browser test call…) registers its path here instead of listening to `upgrade`
 * itself, so several coexist on one port. The first matching route (in registration order) gets the request; no
 * match → 404.
 */
export function upgradeRoutes(server: Server): UpgradeRoutes {
  let r = routers.get(server);
  if (r) return r;
  const routes: Array<{ match: (pathname: string) => boolean; handler: UpgradeHandler }> = [];
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (req.url ?? '/').split('?')[0];
    const route = routes.find((x) => x.match(pathname));
    if (!route) return refuseUpgrade(socket, 404, 'Not Found');
    route.handler(req, socket, head);
  });
  r = {
    add: (path, handler) => {
      const route = { match: typeof path === 'string' ? (p: string) => p === path : path, handler };
      routes.push(route);
      return () => {
        const i = routes.indexOf(route);
        if (i >= 0) routes.splice(i, 1);
      };
    },
  };
  routers.set(server, r);
  return r;
}
