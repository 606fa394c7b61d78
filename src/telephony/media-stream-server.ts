import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Logger } from 'pino';
import { clearMessage, markMessage, mediaMessage, parseInbound, ProtocolError, type MediaEvent, type StartEvent } from './protocol';
import { isValidStreamSignature, publicWssUrl } from './signature';
import type { MediaTransport } from '../domain/ports';

/** What one accepted stream is wired to (a CallSession adapter). */
export interface StreamHandler {
  onMedia(ev: MediaEvent): void;
  onDtmf(digit: string): void;
  onMark(name: string): void;
  /** The stream ended (`stop`, protocol error or socket closed). Called exactly once. */
  onEnd(reason: string): Promise<void> | void;
}

/** Builds the handler for a stream once its `start` frame arrived. Throwing closes the stream with the message. */
export type StreamHandlerFactory = (start: StartEvent, transport: MediaTransport, log: Logger) => Promise<StreamHandler>;

export interface MediaStreamServerOptions {
  path: string;
  authToken: string;
  publicBaseUrl: string;
  createHandler: StreamHandlerFactory;
  logger: Logger;
  /** Largest accepted frame (bytes); default 1 MiB. */
  maxPayload?: number;
  /**
   * A stream with no frame for this long (ms) is closed as dead: Twilio sends media continuously (silence too), so
   * silence on the socket means a vanished peer. Default 15 000.
   */
  idleTimeoutMs?: number;
}

/** WebSocket close code for protocol violations (RFC 6455 §7.4.1: 1008 policy violation). */
export const CLOSE_PROTOCOL_ERROR = 1008;

/**
 * Twilio Media Streams server on an existing HTTP server. The upgrade is refused with 401 (no signature) or 403
 * (bad signature) unless `x-twilio-signature` validates over the public `wss://` URL (PROTOCOLS.md). Each
 * connection is a {@link MediaStreamConnection}; a bad frame closes only that connection.
 */
export function attachMediaStreamServer(server: Server, o: MediaStreamServerOptions): { wss: WebSocketServer; close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayload ?? 1024 * 1024 });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url ?? '/';
    const pathname = url.split('?')[0];
    if (pathname !== o.path) return refuse(socket, 404, 'Not Found');
    const sig = req.headers['x-twilio-signature'];
    const signature = Array.isArray(sig) ? sig[0] : sig;
    if (!signature) {
      o.logger.warn({ path: pathname }, 'media stream upgrade without signature refused');
      return refuse(socket, 401, 'Unauthorized');
    }
    if (!isValidStreamSignature(o.authToken, signature, publicWssUrl(o.publicBaseUrl, url))) {
      o.logger.warn({ path: pathname }, 'media stream upgrade with invalid signature refused');
      return refuse(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(req, socket, head, (ws) => new MediaStreamConnection(ws, o.createHandler, o.logger, o.idleTimeoutMs ?? 15_000));
  };
  server.on('upgrade', onUpgrade);
  return {
    wss,
    close: () =>
      new Promise<void>((resolve) => {
        server.off('upgrade', onUpgrade);
        for (const c of wss.clients) c.close(1001, 'server shutting down');
        wss.close(() => resolve());
      }),
  };
}

/**
 * A WebSocket close reason: RFC 6455 §5.5 caps control-frame payloads at 125 bytes (2 for the code), and `ws`
 * throws past 123 bytes, so the reason is reduced to printable ASCII and 120 characters.
 */
export function closeReason(reason: string): string {
  return reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * One Twilio media stream: enforces the frame order (`connected`? → `start` → media/dtmf/mark* → `stop`), queues
 * frames that arrive while the handler is being built, and maps protocol errors to a close with a reason.
 */
export class MediaStreamConnection {
  private state: 'awaiting_start' | 'starting' | 'active' | 'ended' = 'awaiting_start';
  private streamSid: string | null = null;
  private handler: StreamHandler | null = null;
  private early: Array<() => void> = [];
  private log: Logger;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly createHandler: StreamHandlerFactory,
    logger: Logger,
    private readonly idleTimeoutMs = 15_000,
  ) {
    this.log = logger;
    this.armIdleTimer();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.armIdleTimer();
      this.onMessage(data, isBinary);
    });
    ws.on('close', () => this.end('socket closed'));
    ws.on('error', (err) => {
      this.log.warn({ err: err.message }, 'media stream socket error');
      this.end('socket error');
    });
  }

  private armIdleTimer(): void {
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => this.fail(`no frames for ${this.idleTimeoutMs} ms`), this.idleTimeoutMs);
      this.idleTimer.unref();
    }
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.state === 'ended') return;
    try {
      if (isBinary) throw new ProtocolError('binary frames are not part of the protocol');
      this.dispatch(parseInbound(data.toString()));
    } catch (err) {
      if (err instanceof ProtocolError) return this.fail(err.reason);
      this.fail('internal error handling frame');
      this.log.error({ err }, 'media stream handler threw');
    }
  }

  private dispatch(ev: ReturnType<typeof parseInbound>): void {
    if (ev.event === 'connected') {
      if (this.state !== 'awaiting_start') throw new ProtocolError('connected after start');
      return;
    }
    if (ev.event === 'start') {
      if (this.state !== 'awaiting_start') throw new ProtocolError('duplicate start');
      if (ev.start.mediaFormat.encoding !== 'audio/x-mulaw' || ev.start.mediaFormat.sampleRate !== 8000 || ev.start.mediaFormat.channels !== 1) {
        throw new ProtocolError('unsupported media format (expected audio/x-mulaw 8000 Hz mono)');
      }
      this.state = 'starting';
      this.streamSid = ev.streamSid;
      this.log = this.log.child({ callSid: ev.start.callSid, streamSid: ev.streamSid });
      this.startHandler(ev);
      return;
    }
    if (this.state === 'awaiting_start') throw new ProtocolError(`${ev.event} before start`);
    if (ev.streamSid !== this.streamSid) throw new ProtocolError(`${ev.event} for another streamSid`);
    const deliver = () => {
      const h = this.handler!;
      if (ev.event === 'media') h.onMedia(ev);
      else if (ev.event === 'dtmf') h.onDtmf(ev.dtmf.digit);
      else if (ev.event === 'mark') h.onMark(ev.mark.name);
      else if (ev.event === 'stop') {
        this.end('stop');
        this.ws.close(1000, 'stream stopped');
      }
    };
    if (this.state === 'starting') this.early.push(deliver);
    else deliver();
  }

  private startHandler(ev: StartEvent): void {
    const transport: MediaTransport = {
      sendMedia: (mulaw) => this.send(mediaMessage(ev.streamSid, mulaw)),
      sendMark: (name) => this.send(markMessage(ev.streamSid, name)),
      sendClear: () => this.send(clearMessage(ev.streamSid)),
    };
    this.createHandler(ev, transport, this.log).then(
      (h) => {
        this.handler = h;
        if (this.state === 'ended') {
          Promise.resolve()
            .then(() => h.onEnd(this.endReason ?? 'socket closed'))
            .catch((err) => this.log.error({ err }, 'ending call failed'));
          return;
        }
        this.state = 'active';
        const queued = this.early;
        this.early = [];
        try {
          for (const f of queued) {
            if (this.state !== 'active') break;
            f();
          }
        } catch (err) {
          this.log.error({ err }, 'media stream handler threw');
          this.fail('internal error handling frame');
        }
      },
      (err) => {
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not start call session');
        this.fail(`cannot start call: ${err instanceof Error ? err.message : 'error'}`.slice(0, 120));
      },
    );
  }

  private send(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  private endReason: string | null = null;

  private fail(reason: string): void {
    this.log.warn({ reason }, 'media stream closed: protocol error');
    this.end(`protocol error: ${reason}`);
    if (this.ws.readyState !== this.ws.OPEN && this.ws.readyState !== this.ws.CONNECTING) return;
    try {
      this.ws.close(CLOSE_PROTOCOL_ERROR, closeReason(reason));
    } catch {
      this.ws.terminate();
    }
  }

  private end(reason: string): void {
    if (this.state === 'ended') return;
    const wasActive = this.state === 'active';
    this.state = 'ended';
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.endReason = reason;
    this.early = [];
    if (wasActive && this.handler) {
      Promise.resolve(this.handler.onEnd(reason)).catch((err) => this.log.error({ err }, 'ending call failed'));
    }
  }
}
