import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

const errMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * One Redis pub/sub channel shared by every server process (Redis PUBLISH/SUBSCRIBE: a message reaches every
 * connection subscribed at that moment; nothing is stored). `subscriber` must be a connection in subscriber mode
 * that several channels may share (one per process); `publisher` any normal connection. Messages arrive as raw
 * Buffers (binary-safe: JSON or audio). A handler that throws only drops that message (logged as malformed).
 */
export class RedisChannel {
  private subscribed: Promise<void> = Promise.resolve();
  private readonly onBuffer: (channel: Buffer, raw: Buffer) => void;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    readonly name: string,
    onMessage: (raw: Buffer) => void,
    logger: Logger,
    what: string,
  ) {
    this.onBuffer = (channel, raw) => {
      if (channel.toString() !== name) return;
      try {
        onMessage(raw);
      } catch (err) {
        logger.warn({ err: errMessage(err), channel: what }, `malformed ${what} message dropped`);
      }
    };
  }

  /**
   * Starts listening on `channel`. Never throws and never waits for Redis (a server starts while Redis is down): the
   * channel is subscribed whenever the subscriber connection is (again) ready; failures are logged. {@link ready}
   * resolves once a subscription is active.
   */
  static start(o: { publisher: Redis; subscriber: Redis; channel: string; onMessage: (raw: Buffer) => void; logger: Logger; what: string }): RedisChannel {
    const ch = new RedisChannel(o.publisher, o.subscriber, o.channel, o.onMessage, o.logger, o.what);
    o.subscriber.setMaxListeners(0); // one listener per channel sharing this connection
    o.subscriber.on('messageBuffer', ch.onBuffer);
    let first: (() => void) | null = null;
    ch.subscribed = new Promise<void>((resolve) => (first = resolve));
    const subscribe = () =>
      o.subscriber.subscribe(o.channel).then(
        () => first?.(),
        (err: unknown) => o.logger.error({ err: errMessage(err), channel: o.what }, `${o.what} channel subscription failed: it is retried when Redis is ready again`),
      );
    o.subscriber.on('ready', () => void subscribe());
    if (o.subscriber.status === 'ready') void subscribe();
    return ch;
  }

  /** Resolves once the channel is subscribed (tests wait for it before publishing). */
  ready(): Promise<void> {
    return this.subscribed;
  }

  /** Publishes to every subscribed process (this one included). @returns how many connections received it. @throws on a Redis error. */
  publish(payload: string | Buffer): Promise<number> {
    return this.publisher.publish(this.name, payload);
  }

  /** Stops listening (the connections stay the caller's to close). */
  async close(): Promise<void> {
    this.subscriber.off('messageBuffer', this.onBuffer);
    await this.subscriber.unsubscribe(this.name).catch(() => undefined);
  }
}
