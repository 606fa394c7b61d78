import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Logger } from 'pino';
import { parseInbound, ProtocolError, type InboundEvent, type MediaEvent, type StartEvent } from './protocol';
import { safeErrorMessage } from '../domain/redact';
import { isValidStreamSignature, publicWssUrl } from './signature';
import { OutboundChannel } from './outbound';
import { refuseUpgrade, upgradeRoutes } from './upgrade-routes';
import type { MediaTransport } from '../domain/ports';
import type { Metrics } from '../metrics/metrics';

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
  /**
   * Inbound audio (mu-law: 8 bytes = 1 ms) may run at most this far (ms) ahead of the wall clock since `start`;
   * beyond it the peer is sending faster than real time and the stream is closed. Default 3000 (MEDIA_MAX_AHEAD_MS).
   */
  maxAheadMs?: number;
  /** Frames that arrive while the handler is being built are queued up to this much audio (ms); default 10 000. */
  maxEarlyMs?: number;
  /** …and up to this many frames of any kind; default 1000. Overflow closes the stream (`queue_full`). */
  maxEarlyFrames?: number;
  /** Outbound bytes buffered in the socket above which messages are held back (default 256 KiB). */
  outboundHighWaterBytes?: number;
  /** Held-back outbound bytes above which the peer counts as not reading and is closed (default 4 MiB). */
  outboundMaxHeldBytes?: number;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
  /** Counts server-side closes in `streamsClosed{reason}`. */
  metrics?: Pick<Metrics, 'streamsClosed'>;
}

/** The connection limits and knobs of {@link MediaStreamServerOptions}, with their defaults. */
export type ConnectionLimitOptions = Pick<
  MediaStreamServerOptions,
  'idleTimeoutMs' | 'maxAheadMs' | 'maxEarlyMs' | 'maxEarlyFrames' | 'outboundHighWaterBytes' | 'outboundMaxHeldBytes' | 'now' | 'metrics'
>;

/** Why the server closed a stream (the `reason` label of `streamsClosed`). */
export type CloseKind = 'protocol' | 'ahead_of_real_time' | 'queue_full' | 'slow_consumer' | 'idle';

/** Per-connection limits and hooks, resolved from {@link MediaStreamServerOptions}. */
export interface ConnectionOptions {
  idleTimeoutMs: number;
  maxAheadMs: number;
  maxEarlyMs: number;
  maxEarlyFrames: number;
  outboundHighWaterBytes: number;
  outboundMaxHeldBytes: number;
  now: () => number;
  onClosed?: (kind: CloseKind) => void;
}

/** WebSocket close code for protocol violations (RFC 6455 §7.4.1: 1008 policy violation). */
export const CLOSE_PROTOCOL_ERROR = 1008;

/**
 * Twilio Media Streams server on an existing HTTP server. The upgrade is refused with 401 (no signature) or 403
 * (bad signature) unless `x-twilio-signature` validates over the public `wss://` URL (PROTOCOLS.md). Each
 * connection is a {@link MediaStreamConnection}; a bad frame closes only that connection. It serves `o.path` through
 * the server's {@link upgradeRoutes} (other WebSocket servers share the port on their own paths).
 */
export function attachMediaStreamServer(server: Server, o: MediaStreamServerOptions): { wss: WebSocketServer; close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayload ?? 1024 * 1024 });
  const limits = connectionOptions(o);
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url ?? '/';
    const pathname = url.split('?')[0];
    const sig = req.headers['x-twilio-signature'];
    const signature = Array.isArray(sig) ? sig[0] : sig;
    if (!signature) {
      o.logger.warn({ path: pathname }, 'media stream upgrade without signature refused');
      return refuseUpgrade(socket, 401, 'Unauthorized');
    }
    if (!isValidStreamSignature(o.authToken, signature, publicWssUrl(o.publicBaseUrl, url))) {
      o.logger.warn({ path: pathname }, 'media stream upgrade with invalid signature refused');
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(req, socket, head, (ws) => new MediaStreamConnection(ws, o.createHandler, o.logger, limits));
  };
  const removeRoute = upgradeRoutes(server).add(o.path, onUpgrade);
  return {
    wss,
    close: () =>
      new Promise<void>((resolve) => {
        removeRoute();
        for (const c of wss.clients) c.close(1001, 'server shutting down');
        wss.close(() => resolve());
      }),
  };
}

/** {@link ConnectionOptions} from the server options: each limit given, else its default (see the options' docs). */
export function connectionOptions(o: ConnectionLimitOptions): ConnectionOptions {
  return {
    idleTimeoutMs: o.idleTimeoutMs ?? 15_000,
    maxAheadMs: o.maxAheadMs ?? 3_000,
    maxEarlyMs: o.maxEarlyMs ?? 10_000,
    maxEarlyFrames: o.maxEarlyFrames ?? 1_000,
    outboundHighWaterBytes: o.outboundHighWaterBytes ?? 256 * 1024,
    outboundMaxHeldBytes: o.outboundMaxHeldBytes ?? 4 * 1024 * 1024,
    now: o.now ?? (() => performance.now()),
    onClosed: o.metrics ? (kind) => o.metrics!.streamsClosed.inc({ reason: kind }) : undefined,
  };
}

/**
 * A WebSocket close reason: RFC 6455 §5.5 caps control-frame payloads at 125 bytes (2 for the code), and `ws`
 * throws past 123 bytes, so the reason is reduced to printable ASCII and 120 characters.
 */
export function closeReason(reason: string): string {
  return reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
}

/**
 * One Twilio media stream: enforces the frame order (`connected`? → `start` → media/dtmf/mark* → `stop`), queues
 * frames that arrive while the handler is being built (bounded), refuses media faster than real time, and maps
 * protocol errors to a close (1008) with a reason.
 *
 * Rate rule: every frame after `start` costs its audio (mu-law: 8 bytes = 1 ms), at least 1 ms (so floods of empty
 * or non-media frames count too). When the cost since `start` exceeds the wall-clock time since `start` by more than
 * `maxAheadMs`, the peer is sending faster than real time (Twilio streams in real time; bursts after a network stall
 * only catch up) and the stream is closed. A single oversized frame (up to `maxPayload`) closes it at once.
 */
export class MediaStreamConnection {
  private state: 'awaiting_start' | 'starting' | 'active' | 'ended' = 'awaiting_start';
  private streamSid: string | null = null;
  private handler: StreamHandler | null = null;
  private early: InboundEvent[] = [];
  private earlyMs = 0;
  private log: Logger;
  private idleTimer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private costMs = 0;
  private outbound: OutboundChannel | null = null;
  private endReason: string | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly createHandler: StreamHandlerFactory,
    logger: Logger,
    private readonly o: ConnectionOptions,
  ) {
    this.log = logger;
    this.armIdleTimer();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.state === 'ended') return;
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
      this.idleTimer = setTimeout(() => this.fail(`no frames for ${this.o.idleTimeoutMs} ms`, 'idle'), this.o.idleTimeoutMs);
      this.idleTimer.unref();
    }
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) throw new ProtocolError('binary frames are not part of the protocol');
      this.dispatch(parseInbound(data.toString()));
    } catch (err) {
      if (err instanceof ProtocolError) return this.fail(err.reason, 'protocol');
      this.fail('internal error handling frame', 'protocol');
      this.log.error({ err }, 'media stream handler threw');
    }
  }

  private dispatch(ev: InboundEvent): void {
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
      this.startedAt = this.o.now();
      this.log = this.log.child({ callSid: ev.start.callSid, streamSid: ev.streamSid });
      this.startHandler(ev);
      return;
    }
    if (this.state === 'awaiting_start') throw new ProtocolError(`${ev.event} before start`);
    if (ev.streamSid !== this.streamSid) throw new ProtocolError(`${ev.event} for another streamSid`);
    const audioMs = ev.event === 'media' ? ev.mulaw.length / 8 : 0;
    this.costMs += Math.max(1, audioMs);
    if (this.costMs - (this.o.now() - this.startedAt) > this.o.maxAheadMs) {
      return this.fail(`media arriving faster than real time (more than ${this.o.maxAheadMs} ms ahead)`, 'ahead_of_real_time');
    }
    if (this.state === 'starting') {
      this.earlyMs += audioMs;
      this.early.push(ev);
      if (this.earlyMs > this.o.maxEarlyMs || this.early.length > this.o.maxEarlyFrames) {
        this.fail(`too many frames before the call was ready (${this.early.length} frames, ${Math.round(this.earlyMs)} ms)`, 'queue_full');
      }
      return;
    }
    this.deliver(ev);
  }

  private deliver(ev: InboundEvent): void {
    const h = this.handler!;
    if (ev.event === 'media') h.onMedia(ev);
    else if (ev.event === 'dtmf') h.onDtmf(ev.dtmf.digit);
    else if (ev.event === 'mark') h.onMark(ev.mark.name);
    else if (ev.event === 'stop') {
      this.end('stop');
      this.ws.close(1000, 'stream stopped');
    }
  }

  private startHandler(ev: StartEvent): void {
    const transport = new OutboundChannel(this.ws, ev.streamSid, {
      highWaterBytes: this.o.outboundHighWaterBytes,
      maxHeldBytes: this.o.outboundMaxHeldBytes,
      onOverflow: (bytes) => this.fail(`peer is not reading (${bytes} bytes of outbound audio held)`, 'slow_consumer'),
    });
    this.outbound = transport;
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
        this.earlyMs = 0;
        try {
          for (const q of queued) {
            if (this.state !== 'active') break;
            this.deliver(q);
          }
        } catch (err) {
          this.log.error({ err }, 'media stream handler threw');
          this.fail('internal error handling frame', 'protocol');
        }
      },
      (err) => {
        // The close reason reaches the peer: only a refusal's own reason (a ProtocolError), never an internal
        // error's message (SQL, hosts, provider text), which stays in the log, redacted.
        this.log.warn({ err: safeErrorMessage(err) }, 'could not start call session');
        this.fail(`cannot start call: ${err instanceof ProtocolError ? err.reason : 'internal error'}`.slice(0, 120), 'protocol');
      },
    );
  }

  private fail(reason: string, kind: CloseKind): void {
    if (this.state === 'ended') return;
    this.log.warn({ reason, kind }, 'media stream closed by the server');
    this.end(`protocol error: ${reason}`);
    this.o.onClosed?.(kind);
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
    this.earlyMs = 0;
    this.outbound?.close();
    if (wasActive && this.handler) {
      Promise.resolve(this.handler.onEnd(reason)).catch((err) => this.log.error({ err }, 'ending call failed'));
    }
  }
}
