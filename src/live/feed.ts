import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { observedStore } from '../domain/observed-store';
import type { CallStore } from '../domain/ports';
import { RedisChannel } from '../jobs/redis-channel';
import { SHOWN_EVENTS, type LiveCall, type LiveCallSnapshot, type LiveEvent, type LiveTurn } from './types';

/** Turns kept per live call for a page that connects mid-call. */
export const LIVE_TURNS_KEPT = 50;
/** An instance's heartbeat key lives this long (ms); it is renewed every third of it. */
export const INSTANCE_TTL_MS = 15_000;
/** Safety expiry of a call's turn list (ms) if its instance dies without ending it (renewed by each turn). */
const TURNS_TTL_MS = 2 * 60 * 60_000;

export interface LiveFeedOptions {
  /** Normal connection (commands and PUBLISH). */
  redis: Redis;
  /** Key prefix, e.g. `callcenter` → `callcenter:live:…`. */
  prefix: string;
  /** This process's id (see {@link LiveCall.instanceId}). */
  instanceId: string;
  logger: Logger;
  turnsKept?: number;
  instanceTtlMs?: number;
}

/**
 * The owner side of the live-calls feed plus the snapshot reader. Each process publishes what happens to the calls
 * it holds (`<prefix>:live:events`, JSON {@link LiveEvent}) and keeps the snapshot in Redis:
 * - hash `<prefix>:live:calls`: callSid → JSON {@link LiveCall};
 * - list `<prefix>:live:turns:<callSid>`: the last `turnsKept` turns (JSON {@link LiveTurn}), deleted at call end;
 * - `<prefix>:live:instance:<instanceId>`: the instance's heartbeat (PX `instanceTtlMs`, renewed every third of it).
 * A call whose instance has no heartbeat (crashed) is left out of {@link snapshot}, and ended by the next
 * {@link sweep} of a live instance.
 * Writes are fire-and-forget (never awaited on the call's path); a Redis error is logged and only the feed misses it.
 */
export class LiveFeed {
  readonly channelName: string;
  private readonly callsKey: string;
  private readonly turnsKept: number;
  private readonly ttlMs: number;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(private readonly o: LiveFeedOptions) {
    this.channelName = `${o.prefix}:live:events`;
    this.callsKey = `${o.prefix}:live:calls`;
    this.turnsKept = o.turnsKept ?? LIVE_TURNS_KEPT;
    this.ttlMs = o.instanceTtlMs ?? INSTANCE_TTL_MS;
  }

  private instanceKey(id: string): string {
    return `${this.o.prefix}:live:instance:${id}`;
  }

  private turnsKey(callSid: string): string {
    return `${this.o.prefix}:live:turns:${callSid}`;
  }

  /**
   * Starts this instance's heartbeat, each beat also sweeping the calls of dead instances ({@link sweep}); resolves
   * once the first one is written (Redis errors are logged).
   */
  async start(): Promise<void> {
    const beat = () => this.o.redis.set(this.instanceKey(this.o.instanceId), '1', 'PX', this.ttlMs).catch((err) => this.warn(err, 'live heartbeat failed'));
    const tick = () => beat().then(() => this.sweep().catch((err) => this.warn(err, 'live sweep failed')));
    this.heartbeat ??= setInterval(() => void tick(), Math.max(1, Math.floor(this.ttlMs / 3)));
    this.heartbeat.unref();
    await beat();
  }

  /** Stops the heartbeat and removes it (this instance's calls leave the snapshot at once). */
  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.o.redis.del(this.instanceKey(this.o.instanceId)).catch(() => undefined);
  }

  /** A call's media stream started on this instance. */
  started(call: Omit<LiveCall, 'instanceId' | 'startedAt'>, at = new Date()): void {
    const live: LiveCall = { ...call, startedAt: at.toISOString(), instanceId: this.o.instanceId };
    this.run(this.o.redis.multi().hset(this.callsKey, call.callSid, JSON.stringify(live)).publish(this.channelName, JSON.stringify({ type: 'call.started', call: live } satisfies LiveEvent)));
  }

  /** A call held here has ended (its rows are written): it leaves the snapshot. */
  ended(callSid: string, reason: string, at = new Date()): void {
    const ev: LiveEvent = { type: 'call.ended', callSid, reason, endedAt: at.toISOString() };
    this.run(this.o.redis.multi().hdel(this.callsKey, callSid).del(this.turnsKey(callSid)).publish(this.channelName, JSON.stringify(ev)));
  }

  /** A turn was stored. */
  turn(callSid: string, turn: LiveTurn): void {
    const json = JSON.stringify(turn);
    const key = this.turnsKey(callSid);
    const ev = `{"type":"call.turn","callSid":${JSON.stringify(callSid)},"turn":${json}}`;
    this.run(this.o.redis.multi().rpush(key, json).ltrim(key, -this.turnsKept, -1).pexpire(key, TURNS_TTL_MS).publish(this.channelName, ev));
  }

  /** A call event was stored; only {@link SHOWN_EVENTS} are published (`provider.error` without its message). */
  event(callSid: string, type: string, payload: Record<string, unknown> = {}, at = new Date()): void {
    if (!SHOWN_EVENTS.has(type)) return;
    const shown = type === 'provider.error' ? { stage: payload.stage } : payload;
    const ev: LiveEvent = { type: 'call.event', callSid, event: { type, payload: shown, at: at.toISOString() } };
    this.o.redis.publish(this.channelName, JSON.stringify(ev)).catch((err) => this.warn(err, 'live event publish failed'));
  }

  /**
   * `inner` (the calls repository) with each successful turn and shown event also published. The write's result and
   * errors are `inner`'s; publishing never delays or fails it.
   */
  store(inner: CallStore): CallStore {
    return observedStore(inner, {
      onTurn: (callSid, t) => this.turn(callSid, t),
      onEvent: (callSid, type, payload) => this.event(callSid, type, payload),
      onError: (err) => this.warn(err, 'live publish failed'),
    });
  }


  /** Listens to every instance's feed (one subscription on the process's shared subscriber connection). */
  subscribe(subscriber: Redis, onEvent: (type: LiveEvent['type'], raw: string) => void): RedisChannel {
    return RedisChannel.start({
      publisher: this.o.redis,
      subscriber,
      channel: this.channelName,
      logger: this.o.logger,
      what: 'live event',
      onMessage: (buf) => {
        const raw = buf.toString();
        const { type } = JSON.parse(raw) as { type?: unknown };
        if (typeof type !== 'string' || !type.startsWith('call.')) throw new Error('bad shape');
        onEvent(type as LiveEvent['type'], raw);
      },
    });
  }

  /** The instance holding `callSid` when that instance is alive, else null. @throws on a Redis error. */
  async ownerOf(callSid: string): Promise<string | null> {
    const raw = await this.o.redis.hget(this.callsKey, callSid);
    if (!raw) return null;
    const { instanceId } = JSON.parse(raw) as LiveCall;
    return (await this.o.redis.exists(this.instanceKey(instanceId))) ? instanceId : null;
  }

  /** The calls in the hash, split by whether their instance still has a heartbeat. @throws on a Redis error. */
  private async calls(): Promise<{ alive: LiveCall[]; dead: LiveCall[] }> {
    const all = Object.values(await this.o.redis.hgetall(this.callsKey)).map((v) => JSON.parse(v) as LiveCall);
    const instances = [...new Set(all.map((c) => c.instanceId))];
    const alive = new Set<string>();
    if (instances.length) {
      const beats = await this.o.redis.mget(instances.map((i) => this.instanceKey(i)));
      instances.forEach((id, i) => beats[i] !== null && alive.add(id));
    }
    return { alive: all.filter((c) => alive.has(c.instanceId)), dead: all.filter((c) => !alive.has(c.instanceId)) };
  }

  /**
   * Ends the calls of instances without a heartbeat (crashed): each is removed from the hash and its turns deleted,
   * and `call.ended` (reason `instance lost`) is published by whichever instance removed it (HDEL returned 1), so
   * exactly once. @returns how many it ended. @throws on a Redis error.
   */
  async sweep(): Promise<number> {
    const { dead } = await this.calls();
    let n = 0;
    for (const c of dead) {
      if (!(await this.o.redis.hdel(this.callsKey, c.callSid))) continue;
      n++;
      const ev: LiveEvent = { type: 'call.ended', callSid: c.callSid, reason: 'instance lost', endedAt: new Date().toISOString() };
      this.run(this.o.redis.multi().del(this.turnsKey(c.callSid)).publish(this.channelName, JSON.stringify(ev)));
    }
    return n;
  }

  /**
   * Every live call of every live instance with its last turns (oldest first), oldest call first. Calls of instances
   * without a heartbeat are left out (the heartbeat's {@link sweep} ends them). @throws on a Redis error.
   */
  async snapshot(): Promise<LiveCallSnapshot[]> {
    const calls = (await this.calls()).alive.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    if (!calls.length) return [];
    const p = this.o.redis.pipeline();
    for (const c of calls) p.lrange(this.turnsKey(c.callSid), 0, -1);
    const lists = (await p.exec()) ?? [];
    return calls.map((c, i) => {
      const [err, items] = lists[i] ?? [null, []];
      if (err) throw err;
      return { ...c, turns: (items as string[]).map((t) => JSON.parse(t) as LiveTurn) };
    });
  }

  private run(m: { exec(): Promise<unknown> }): void {
    m.exec().catch((err) => this.warn(err, 'live feed write failed'));
  }

  private warn(err: unknown, msg: string): void {
    this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  }
}
