import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisChannel } from './redis-channel';

/** One AMD result for a call (Twilio's `AnsweredBy`). */
export interface AmdMessage {
  callSid: string;
  answeredBy: string;
}

/**
 * AMD results across server processes: Twilio's AMD callback may reach a process other than the one holding the
 * call's media stream (two processes behind a load balancer), so the receiving process publishes on one Redis
 * channel (`<prefix>:amd`, JSON `{ callSid, answeredBy }`) and every process hands each message to `deliver`, which
 * acts only when it holds that call's live session. `subscriber` must be a subscriber-mode connection (see
 * {@link RedisChannel}). Malformed messages are logged and dropped.
 */
export class AmdBus {
  private constructor(private readonly channel: RedisChannel) {}

  /** Starts listening; never throws and never waits for Redis (see {@link RedisChannel.start}). */
  static start(o: { publisher: Redis; subscriber: Redis; prefix: string; deliver: (m: AmdMessage) => void; logger: Logger }): AmdBus {
    const channel = RedisChannel.start({
      publisher: o.publisher,
      subscriber: o.subscriber,
      channel: `${o.prefix}:amd`,
      logger: o.logger,
      what: 'AMD',
      onMessage: (raw) => {
        const m = JSON.parse(raw.toString()) as Partial<AmdMessage>;
        if (typeof m.callSid !== 'string' || typeof m.answeredBy !== 'string') throw new Error('bad shape');
        o.deliver({ callSid: m.callSid, answeredBy: m.answeredBy });
      },
    });
    return new AmdBus(channel);
  }

  /** Resolves once the channel is subscribed (tests wait for it before publishing). */
  ready(): Promise<void> {
    return this.channel.ready();
  }

  /** Publishes `m` to every process (this one included). @throws on a Redis error. */
  async publish(m: AmdMessage): Promise<void> {
    await this.channel.publish(JSON.stringify({ callSid: m.callSid, answeredBy: m.answeredBy }));
  }

  /** Unsubscribes (the connections stay the caller's to close). */
  close(): Promise<void> {
    return this.channel.close();
  }
}
