import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Handles one HTTP `upgrade` request (RFC 6455 §4.1 opening handshake) whose path matched its route. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Which request paths (the URL without its query) a route takes: an exact path, or a predicate. */
export type UpgradePath = string | ((pathname: string) => boolean);

/**
 * The one `upgrade` listener of an HTTP server, dispatching WebSocket upgrades by path to the modules that own them
 * (the Twilio media stream, the browser test call, supervisors' listen-in…). Each module registers its path with
 * {@link UpgradeRouter.route} from its own file; a path no route takes is refused with 404, once (several
 * `upgrade` listeners would each answer the same socket). Routes are tried in registration order.
 */
export class UpgradeRouter {
  private readonly routes: { path: UpgradePath; handler: UpgradeHandler }[] = [];
  private readonly listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.dispatch(req, socket, head);

  constructor(private readonly server: Server) {
    server.on('upgrade', this.listener);
  }

  /** Sends upgrades whose path matches `path` to `handler`. @returns a function that removes the route. */
  route(path: UpgradePath, handler: UpgradeHandler): () => void {
    const entry = { path, handler };
    this.routes.push(entry);
    return () => {
      const i = this.routes.indexOf(entry);
      if (i >= 0) this.routes.splice(i, 1);
    };
  }

  /** Stops listening for upgrades on the server. */
  detach(): void {
    this.server.off('upgrade', this.listener);
  }

  private dispatch(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const pathname = (req.url ?? '/').split('?')[0];
    const r = this.routes.find((x) => (typeof x.path === 'string' ? x.path === pathname : x.path(pathname)));
    if (!r) return refuseUpgrade(socket, 404, 'Not Found');
    r.handler(req, socket, head);
  }
}

/** Answers an upgrade request with a bodiless HTTP error (`status` `text`) and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
