import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisChannel } from '../jobs/redis-channel';

/**
 * A command for the instance holding a call (JSON on `<prefix>:live:cmd:<instanceId>`):
 * - `hangup` / `transfer { to }`: a supervisor's action, run through the call's session;
 * - `listen { from, ms }`: instance `from` has listeners for the call's audio for the next `ms` ms (renewed while
 *   they listen); `unlisten { from }`: it has none left.
 */
export type LiveCommand =
  | { type: 'hangup'; callSid: string }
  | { type: 'transfer'; callSid: string; to: string }
  | { type: 'listen'; callSid: string; from: string; ms: number }
  | { type: 'unlisten'; callSid: string; from: string };

/** What a command needs of a live session (CallSession implements it). */
export interface LiveSessionControl {
  /** The agent says goodbye and the call is hung up over Twilio REST (end reason `reason`). */
  hangUp(reason: string): void;
  /** The agent says the handoff line and the call is redirected to `target` (E.164) over Twilio REST. */
  transferTo(target: string, reason: string): void;
}

/** End reason / transfer reason of a supervisor's action. */
export const SUPERVISOR_REASON = 'supervisor';

function parse(raw: string): LiveCommand {
  const m = JSON.parse(raw) as Record<string, unknown>;
  const str = (k: string) => {
    if (typeof m[k] !== 'string') throw new Error(`bad ${k}`);
    return m[k] as string;
  };
  const callSid = str('callSid');
  if (m.type === 'hangup') return { type: 'hangup', callSid };
  if (m.type === 'transfer') return { type: 'transfer', callSid, to: str('to') };
  if (m.type === 'unlisten') return { type: 'unlisten', callSid, from: str('from') };
  if (m.type === 'listen' && typeof m.ms === 'number' && m.ms > 0) return { type: 'listen', callSid, from: str('from'), ms: m.ms };
  throw new Error('bad shape');
}

/**
 * Commands to the instance holding a call, over Redis pub/sub (same pattern as the AMD bus): each process subscribes
 * its own channel `<prefix>:live:cmd:<instanceId>` once; {@link send} publishes to the owner's. A command for a call
 * this instance no longer holds is dropped (the call just ended). Malformed messages are logged and dropped.
 */
export class LiveCommands {
  private constructor(
    private readonly o: { publisher: Redis; prefix: string },
    private readonly channel: RedisChannel,
  ) {}

  static start(o: {
    publisher: Redis;
    subscriber: Redis;
    prefix: string;
    instanceId: string;
    logger: Logger;
    /** The live session of a call held here. */
    session: (callSid: string) => LiveSessionControl | undefined;
    /** `listen` / `unlisten` commands (see {@link LiveCommand}). */
    onListen: (callSid: string, from: string, ms: number) => void;
  }): LiveCommands {
    const channel = RedisChannel.start({
      publisher: o.publisher,
      subscriber: o.subscriber,
      channel: `${o.prefix}:live:cmd:${o.instanceId}`,
      logger: o.logger,
      what: 'live command',
      onMessage: (raw) => {
        const c = parse(raw.toString());
        if (c.type === 'listen') return o.onListen(c.callSid, c.from, c.ms);
        if (c.type === 'unlisten') return o.onListen(c.callSid, c.from, 0);
        const s = o.session(c.callSid);
        if (!s) return o.logger.info({ callSid: c.callSid, command: c.type }, 'live command for a call no longer held here: dropped');
        o.logger.info({ callSid: c.callSid, command: c.type }, 'supervisor action');
        if (c.type === 'hangup') s.hangUp(SUPERVISOR_REASON);
        else s.transferTo(c.to, SUPERVISOR_REASON);
      },
    });
    return new LiveCommands(o, channel);
  }

  /** Resolves once this instance's command channel is subscribed. */
  ready(): Promise<void> {
    return this.channel.ready();
  }

  /** Sends `c` to instance `owner`. @returns false when no process listens there (the instance is gone). @throws on a Redis error. */
  async send(owner: string, c: LiveCommand): Promise<boolean> {
    return (await this.o.publisher.publish(`${this.o.prefix}:live:cmd:${owner}`, JSON.stringify(c))) > 0;
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
