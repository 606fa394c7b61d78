import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** One AMD result for a call (Twilio's `AnsweredBy`). */
export interface AmdMessage {
  callSid: string;
  answeredBy: string;
}

/**
 * AMD results across server processes: Twilio's AMD callback may reach a process other than the one holding the
 * call's media stream (two processes behind a load balancer), so the receiving process publishes on one Redis
 * channel (`<prefix>:amd`, JSON `{ callSid, answeredBy }`) and every process hands each message to `deliver`, which
 * acts only when it holds that call's live session. `subscriber` must be a connection of its own (Redis puts a
 * subscribed connection in subscriber mode). Malformed messages are logged and dropped.
 */
export class AmdBus {
  private readonly channel: string;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
  ) {
    this.channel = `${prefix}:amd`;
  }

  private subscribed: Promise<void> = Promise.resolve();

  /**
   * Starts listening. Never throws and never waits for Redis (a server starts while Redis is down): the channel is
   * subscribed whenever the subscriber connection is (again) ready; failures are logged. {@link ready} resolves once
   * a subscription is active.
   */
  static start(o: { publisher: Redis; subscriber: Redis; prefix: string; deliver: (m: AmdMessage) => void; logger: Logger }): AmdBus {
    const bus = new AmdBus(o.publisher, o.subscriber, o.prefix);
    o.subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== bus.channel) return;
      try {
        const m = JSON.parse(raw) as Partial<AmdMessage>;
        if (typeof m.callSid !== 'string' || typeof m.answeredBy !== 'string') throw new Error('bad shape');
        o.deliver({ callSid: m.callSid, answeredBy: m.answeredBy });
      } catch (err) {
        o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'malformed AMD message dropped');
      }
    });
    let first: (() => void) | null = null;
    const subscribed = new Promise<void>((resolve) => (first = resolve));
    const subscribe = () =>
      o.subscriber.subscribe(bus.channel).then(
        () => first?.(),
        (err: unknown) => o.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'AMD channel subscription failed: AMD results reach only sessions that start later'),
      );
    o.subscriber.on('ready', () => void subscribe());
    if (o.subscriber.status === 'ready') void subscribe();
    bus.subscribed = subscribed;
    return bus;
  }

  /** Resolves once the channel is subscribed (tests wait for it before publishing). */
  ready(): Promise<void> {
    return this.subscribed;
  }

  /** Publishes `m` to every process (this one included). @throws on a Redis error. */
  async publish(m: AmdMessage): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify({ callSid: m.callSid, answeredBy: m.answeredBy }));
  }

  /** Unsubscribes (the connections stay the caller's to close). */
  async close(): Promise<void> {
    await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }
}
