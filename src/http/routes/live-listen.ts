import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { AuditRepo } from '../../db/audit';
import type { ListenClient } from '../../live/listen';
import { refuseUpgrade, upgradeRoutes } from '../../telephony/upgrade-routes';
import type { UpgradeAuthenticator } from '../auth/upgrade-auth';

const LISTEN_PATH = /^\/api\/live\/calls\/([A-Za-z0-9_-]{1,64})\/listen$/;

/**
 * The supervisors' listen-in WebSocket, `GET /api/live/calls/:callSid/listen` (format: src/live/listen.ts TRACK;
 * documented in src/http/api/live.ts), on the server's upgrade routes. The upgrade is authenticated by `authenticate`
 * (session cookie + Origin, or API key; role supervisor) → 401/403; a call not live on any instance → 404; else the
 * socket joins the process's listen relay, which streams the call's audio from whichever instance holds it. Each
 * listen-in is audit-logged (`call.listen`). Messages from the client are ignored.
 */
export function attachLiveListen(
  server: Server,
  o: {
    authenticate: UpgradeAuthenticator;
    relay: { join(callSid: string, c: ListenClient): Promise<(() => void) | null> };
    ownerOf: (callSid: string) => Promise<string | null>;
    audit: AuditRepo;
    logger: Logger;
  },
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const callSid = LISTEN_PATH.exec((req.url ?? '/').split('?')[0])![1];
    const principal = await o.authenticate(req, socket);
    if (!principal) return;
    if (!(await o.ownerOf(callSid))) return refuseUpgrade(socket, 404, 'Not Found');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', (err) => o.logger.warn({ callSid, err: err.message }, 'listen-in socket error'));
      o.relay.join(callSid, ws).then(
        (leave) => {
          if (!leave) return ws.close(1000, 'call ended');
          if (ws.readyState !== ws.OPEN) return leave();
          ws.on('close', leave);
          o.audit.record({ actor: { kind: principal.kind, id: principal.id, label: principal.label }, action: 'call.listen', entityType: 'call', entityId: callSid }).catch((err) => o.logger.warn({ callSid, err: err.message }, 'listen-in audit failed'));
        },
        (err) => {
          o.logger.warn({ callSid, err: err instanceof Error ? err.message : String(err) }, 'listen-in failed');
          ws.close(1011, 'listen-in unavailable');
        },
      );
    });
  };
  const remove = upgradeRoutes(server).add(
    (p) => LISTEN_PATH.test(p),
    (req, socket, head) => {
      onUpgrade(req, socket, head).catch((err) => {
        o.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'listen-in upgrade failed');
        refuseUpgrade(socket, 500, 'Internal Server Error');
      });
    },
  );
  return {
    close: () =>
      new Promise<void>((resolve) => {
        remove();
        for (const c of wss.clients) c.close(1001, 'server shutting down');
        wss.close(() => resolve());
      }),
  };
}
