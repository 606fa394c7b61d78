import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LiveCommands } from './commands';

/**
 * Listen-in audio: a binary message per chunk, byte 0 the track, then raw 8 kHz mu-law (no header):
 * - 0 `caller`: a frame received from the caller (normally 160 bytes = 20 ms), in real time;
 * - 1 `agent`: agent audio as queued for the caller, in send order (it may arrive faster than real time: the
 *   listener schedules it after the agent audio it already has);
 * - 2 `clear`: no payload; the agent audio the listener has not played yet was dropped (barge-in);
 * - 3 `end`: no payload; the call has ended (relay only: listeners see their WebSocket closed with 1000).
 * Over Redis on `<prefix>:live:audio:<callSid>`, and the same bytes to each listening WebSocket.
 */
export const TRACK = { caller: 0, agent: 1, clear: 2, end: 3 } as const;

const audioChannel = (prefix: string, callSid: string) => `${prefix}:live:audio:${callSid}`;
const errMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The audio part of a call tap (see src/call-taps.ts CallTap): must return at once and never throw. */
export interface ListenTap {
  onInbound(mulaw: Uint8Array): void;
  onOutbound(mulaw: Uint8Array): void;
  onClear(): void;
  close(): void;
}

interface Leases {
  /** Latest lease end (epoch ms, `now()`); 0 = nobody listens (the tap does nothing). */
  until: number;
  byInstance: Map<string, number>;
}

/**
 * The owner side of listen-in: a tap per call that publishes its audio on the call's Redis channel only while some
 * instance holds a listen lease (a `listen` command, renewed by the listening instance; `unlisten` or expiry ends
 * it). With no lease a tap method is one comparison: nothing is copied or sent.
 */
export class ListenTaps {
  private readonly calls = new Map<string, Leases>();
  private readonly now: () => number;

  constructor(private readonly o: { publisher: Redis; prefix: string; logger: Logger; now?: () => number }) {
    this.now = o.now ?? Date.now;
  }

  /** The tap of `callSid` (open when its stream starts, closed when its session has ended). */
  open(callSid: string): ListenTap {
    const leases: Leases = { until: 0, byInstance: new Map() };
    this.calls.set(callSid, leases);
    const channel = audioChannel(this.o.prefix, callSid);
    let failed = false;
    const send = (track: number, mulaw?: Uint8Array) => {
      if (this.now() > leases.until && !this.expire(leases)) return;
      const b = Buffer.allocUnsafe(1 + (mulaw?.length ?? 0));
      b[0] = track;
      if (mulaw) b.set(mulaw, 1);
      this.o.publisher.publish(channel, b).catch((err) => {
        if (!failed) this.o.logger.warn({ callSid, err: errMessage(err) }, 'listen-in audio publish failed');
        failed = true;
      });
    };
    return {
      onInbound: (m) => leases.until !== 0 && send(TRACK.caller, m),
      onOutbound: (m) => leases.until !== 0 && send(TRACK.agent, m),
      onClear: () => leases.until !== 0 && send(TRACK.clear),
      close: () => {
        if (leases.until !== 0) send(TRACK.end);
        if (this.calls.get(callSid) === leases) this.calls.delete(callSid);
      },
    };
  }

  /** Instance `from` listens to `callSid` for `ms` more ms (0: stops). Ignored for a call not held here. */
  lease(callSid: string, from: string, ms: number): void {
    const l = this.calls.get(callSid);
    if (!l) return;
    if (ms > 0) l.byInstance.set(from, this.now() + ms);
    else l.byInstance.delete(from);
    this.expire(l);
  }

  /** Drops expired leases; @returns whether one is still running. */
  private expire(l: Leases): boolean {
    const now = this.now();
    let until = 0;
    for (const [id, u] of l.byInstance) {
      if (u < now) l.byInstance.delete(id);
      else until = Math.max(until, u);
    }
    l.until = until;
    return until !== 0;
  }
}

/** A listening WebSocket as the relay sees it (`ws`'s WebSocket fits). */
export interface ListenClient {
  send(frame: Buffer): void;
  /** Bytes queued on the socket and not yet sent. */
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

interface Group {
  owner: string;
  clients: Set<ListenClient>;
  renew: NodeJS.Timeout;
}

/** How long a listen lease lasts (ms); renewed every third of it while someone listens. */
export const LISTEN_LEASE_MS = 15_000;
/** A listener with more than this queued (bytes, ~16 s of both tracks) is disconnected (1008). */
export const LISTEN_MAX_BUFFERED_BYTES = 256 * 1024;

/**
 * The listener side of listen-in, one per process: the first local listener of a call subscribes its audio channel
 * (on the process's shared subscriber connection) and asks the owner for the audio (`listen` lease, renewed); each
 * frame goes to every local listener of that call; the last one leaving unsubscribes and sends `unlisten`. A
 * listener that does not read (more than `maxBufferedBytes` queued) is closed with 1008; at the call's end (or its
 * owner gone) every listener is closed with 1000 `call ended`.
 */
export class ListenRelay {
  private readonly groups = new Map<string, Group>();
  private readonly channelPrefix: string;
  private readonly onBuffer: (channel: Buffer, raw: Buffer) => void;

  constructor(
    private readonly o: {
      subscriber: Redis;
      prefix: string;
      instanceId: string;
      commands: LiveCommands;
      /** The live instance holding a call, or null (see LiveFeed.ownerOf). */
      ownerOf: (callSid: string) => Promise<string | null>;
      logger: Logger;
      leaseMs?: number;
      maxBufferedBytes?: number;
    },
  ) {
    this.channelPrefix = audioChannel(o.prefix, '');
    this.onBuffer = (channel, raw) => {
      const name = channel.toString();
      if (!name.startsWith(this.channelPrefix)) return;
      this.deliver(name.slice(this.channelPrefix.length), raw);
    };
    o.subscriber.on('messageBuffer', this.onBuffer);
  }

  private get leaseMs(): number {
    return this.o.leaseMs ?? LISTEN_LEASE_MS;
  }

  /**
   * Adds a listener of `callSid`. @returns its leave function, or null when the call is not live on any instance.
   * @throws on a Redis error.
   */
  async join(callSid: string, client: ListenClient): Promise<(() => void) | null> {
    let g = this.groups.get(callSid);
    if (!g) {
      const owner = await this.o.ownerOf(callSid);
      if (!owner) return null;
      g = this.groups.get(callSid); // another join may have started it meanwhile
      if (!g) {
        const group: Group = { owner, clients: new Set(), renew: setInterval(() => void this.renew(callSid, group), Math.max(1, Math.floor(this.leaseMs / 3))) };
        group.renew.unref();
        this.groups.set(callSid, group);
        g = group;
        try {
          await this.o.subscriber.subscribe(audioChannel(this.o.prefix, callSid));
          await this.o.commands.send(owner, { type: 'listen', callSid, from: this.o.instanceId, ms: this.leaseMs });
        } catch (err) {
          this.endGroup(callSid, group, 1011, 'listen-in unavailable');
          throw err;
        }
      }
    }
    const group = g;
    group.clients.add(client);
    return () => {
      if (!group.clients.delete(client) || group.clients.size > 0) return;
      this.endGroup(callSid, group);
    };
  }

  /** Closes every listener (1001) and stops listening (server shutdown). */
  close(): void {
    for (const [callSid, g] of this.groups) this.endGroup(callSid, g, 1001, 'server shutting down');
    this.o.subscriber.off('messageBuffer', this.onBuffer);
  }

  private deliver(callSid: string, frame: Buffer): void {
    const g = this.groups.get(callSid);
    if (!g || frame.length === 0) return;
    if (frame[0] === TRACK.end) return this.endGroup(callSid, g, 1000, 'call ended');
    for (const c of g.clients) {
      if (c.bufferedAmount > (this.o.maxBufferedBytes ?? LISTEN_MAX_BUFFERED_BYTES)) {
        g.clients.delete(c);
        c.close(1008, 'listener too slow: audio dropped');
        continue;
      }
      c.send(frame);
    }
    if (g.clients.size === 0) this.endGroup(callSid, g);
  }

  private async renew(callSid: string, g: Group): Promise<void> {
    try {
      const owner = await this.o.ownerOf(callSid);
      if (this.groups.get(callSid) !== g) return;
      if (owner !== g.owner) return this.endGroup(callSid, g, 1000, 'call ended');
      await this.o.commands.send(owner, { type: 'listen', callSid, from: this.o.instanceId, ms: this.leaseMs });
    } catch (err) {
      this.o.logger.warn({ callSid, err: errMessage(err) }, 'listen-in lease renewal failed');
    }
  }

  /** Stops relaying `callSid`: closes its remaining listeners with `code` (when given), unsubscribes, tells the owner. */
  private endGroup(callSid: string, g: Group, code?: number, reason = ''): void {
    if (this.groups.get(callSid) !== g) return;
    this.groups.delete(callSid);
    clearInterval(g.renew);
    if (code !== undefined) for (const c of g.clients) c.close(code, reason);
    g.clients.clear();
    const log = (err: unknown) => this.o.logger.warn({ callSid, err: errMessage(err) }, 'listen-in stop failed');
    this.o.subscriber.unsubscribe(audioChannel(this.o.prefix, callSid)).catch(log);
    this.o.commands.send(g.owner, { type: 'unlisten', callSid, from: this.o.instanceId }).catch(log);
  }
}
