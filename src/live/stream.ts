import type { LiveEvent } from './types';

/** One SSE client as the hub sees it (an express Response fits through a small adapter). */
export interface StreamClient {
  /** Writes a chunk of the event stream. */
  write(chunk: string): void;
  /** Bytes written and not yet flushed to the socket. */
  readonly pendingBytes: number;
  /** Ends the response (the browser's EventSource reconnects and reloads the snapshot). */
  close(): void;
}

/** SSE heartbeat interval (ms): a comment line keeps proxies from closing an idle stream. */
export const SSE_HEARTBEAT_MS = 15_000;
/** A client with more than this unflushed (bytes) is disconnected rather than buffered without bound. */
export const SSE_MAX_PENDING_BYTES = 1024 * 1024;

/**
 * Fans the process's one subscription of the live feed out to its SSE clients (text/event-stream, WHATWG HTML
 * "Server-sent events"): each feed message becomes `event: <type>\ndata: <json>\n\n`; every `heartbeatMs` a
 * `: ping` comment. A client whose unflushed output exceeds `maxPendingBytes` is closed and dropped, so a slow
 * browser never grows the server's memory without bound.
 */
export class LiveStreamHub {
  private readonly clients = new Set<StreamClient>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: { heartbeatMs?: number; maxPendingBytes?: number } = {}) {
    this.timer = setInterval(() => this.broadcast(': ping\n\n'), o.heartbeatMs ?? SSE_HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Number of connected clients. */
  get size(): number {
    return this.clients.size;
  }

  /** Adds a client; @returns its remove function (call it when the request closes). */
  add(client: StreamClient): () => void {
    this.clients.add(client);
    client.write('retry: 3000\n: connected\n\n');
    return () => void this.clients.delete(client);
  }

  /** A feed message (`raw` is its JSON) for every client. */
  publish(type: LiveEvent['type'], raw: string): void {
    this.broadcast(`event: ${type}\ndata: ${raw}\n\n`);
  }

  /** Ends every client and stops the heartbeat. */
  close(): void {
    clearInterval(this.timer);
    for (const c of this.clients) c.close();
    this.clients.clear();
  }

  private broadcast(chunk: string): void {
    const max = this.o.maxPendingBytes ?? SSE_MAX_PENDING_BYTES;
    for (const c of this.clients) {
      if (c.pendingBytes > max) {
        this.clients.delete(c);
        c.close();
      } else c.write(chunk);
    }
  }
}
