import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CallStore } from './domain/ports';
import type { CallTapFactory } from './call-taps';
import { LiveFeed } from './live/feed';
import { LiveCommands, type LiveSessionControl } from './live/commands';
import { ListenRelay, ListenTaps } from './live/listen';
import { LiveStreamHub } from './live/stream';
import type { RedisChannel } from './jobs/redis-channel';

/** The live-calls machinery of one server process (see {@link startLiveCalls}). */
export interface LiveService {
  /** Random id of this process in the feed (`LiveCall.instanceId`). */
  instanceId: string;
  feed: LiveFeed;
  commands: LiveCommands;
  relay: ListenRelay;
  hub: LiveStreamHub;
  /** Opened per call by the session factory: publishes `call.started` / `call.ended` and taps listen-in audio. */
  tap: CallTapFactory;
  /** The session's store with turns and shown events also published. */
  store(inner: CallStore): CallStore;
  /** Resolves once every channel is subscribed and the first heartbeat was attempted. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the live calls of this process: the feed (events + Redis snapshot + heartbeat), the command channel
 * (supervisor hangup/transfer and listen leases, run on `session(callSid)`), the SSE hub (one subscription of the
 * feed, fanned out) and the listen-in relay. `subscriber` is the process's one subscriber-mode connection (shared
 * with the AMD bus). Never waits for Redis (a server starts while Redis is down; errors are logged): {@link
 * LiveService.ready} resolves once the channels are subscribed and the first heartbeat was attempted.
 */
export function startLiveCalls(o: {
  redis: Redis;
  subscriber: Redis;
  prefix: string;
  logger: Logger;
  session: (callSid: string) => LiveSessionControl | undefined;
  heartbeatMs?: number;
}): LiveService {
  const instanceId = randomUUID();
  const logger = o.logger.child({ component: 'live' });
  const feed = new LiveFeed({ redis: o.redis, prefix: o.prefix, instanceId, logger });
  const taps = new ListenTaps({ publisher: o.redis, prefix: o.prefix, logger });
  const commands = LiveCommands.start({ publisher: o.redis, subscriber: o.subscriber, prefix: o.prefix, instanceId, logger, session: o.session, onListen: (sid, from, ms) => taps.lease(sid, from, ms) });
  const relay = new ListenRelay({ subscriber: o.subscriber, prefix: o.prefix, instanceId, commands, ownerOf: (sid) => feed.ownerOf(sid), logger });
  const hub = new LiveStreamHub({ heartbeatMs: o.heartbeatMs });
  const events: RedisChannel = feed.subscribe(o.subscriber, (type, raw) => hub.publish(type, raw));
  const firstBeat = feed.start();
  return {
    instanceId,
    feed,
    commands,
    relay,
    hub,
    tap: (call) => {
      feed.started({ callSid: call.callSid, agentId: call.agentId, direction: call.direction, from: call.from, to: call.to });
      const audio = taps.open(call.callSid);
      return {
        onInbound: audio.onInbound,
        onOutbound: audio.onOutbound,
        onClear: audio.onClear,
        close: async (reason) => {
          audio.close();
          feed.ended(call.callSid, reason);
        },
      };
    },
    store: (inner) => feed.store(inner),
    ready: async () => {
      await Promise.all([commands.ready(), events.ready(), firstBeat]);
    },
    close: async () => {
      relay.close();
      hub.close();
      await Promise.all([events.close(), commands.close()]);
      await feed.close();
    },
  };
}
