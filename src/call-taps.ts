import type { MediaTransport } from './domain/ports';

/** The call a tap is opened for (from its `calls` row and the stream's `start`). */
export interface TappedCall {
  callSid: string;
  streamSid: string;
  agentId: string;
  /** `inbound` | `outbound-api` | `outbound-dial` | `web` (see the calls migration). */
  direction: string;
  from: string;
  to: string;
  /** The agent's `recordCalls` setting (absent = true): the recording tap observes the call only when true. */
  recordCalls?: boolean;
}

/**
 * An observer of one call's audio, opened when its media stream starts and closed once its session has ended.
 * Used by the recording writer and the supervisors' listen-in. Every method runs on the audio path: it must return at
 * once (copy or queue, never await) and must not throw — a tap that fails must only stop itself, never the call.
 */
export interface CallTap {
  /** A frame received from the caller: raw 8 kHz mu-law (normally 160 bytes = 20 ms), in arrival order. */
  onInbound(mulaw: Uint8Array): void;
  /** Agent audio queued for playout to the caller (raw 8 kHz mu-law, any length), in send order. */
  onOutbound(mulaw: Uint8Array): void;
  /** The agent's queued audio was dropped (barge-in `clear`): audio not yet played will never be heard. */
  onClear(): void;
  /** The call has ended (its session's rows are written). May flush or upload; errors are the tap's to log. */
  close(reason: string): Promise<void>;
}

/** Opens a tap for a call, or returns null when it does not observe this call. Must not throw. */
export type CallTapFactory = (call: TappedCall) => CallTap | null;

/**
 * The taps the factories open for a call, as one: each method fans out to every tap, isolating a tap that throws
 * (it is removed, the others keep running). Null when no factory observes this call, so a call without taps pays
 * nothing on the audio path.
 */
export function openTaps(factories: readonly CallTapFactory[] | undefined, call: TappedCall, onError: (err: unknown) => void): CallTap | null {
  const taps: CallTap[] = [];
  for (const f of factories ?? []) {
    try {
      const t = f(call);
      if (t) taps.push(t);
    } catch (err) {
      onError(err);
    }
  }
  if (taps.length === 0) return null;
  const each = (fn: (t: CallTap) => void) => {
    for (const t of [...taps]) {
      try {
        fn(t);
      } catch (err) {
        taps.splice(taps.indexOf(t), 1);
        onError(err);
      }
    }
  };
  return {
    onInbound: (m) => each((t) => t.onInbound(m)),
    onOutbound: (m) => each((t) => t.onOutbound(m)),
    onClear: () => each((t) => t.onClear()),
    close: async (reason) => {
      await Promise.all(taps.map((t) => t.close(reason).catch(onError)));
    },
  };
}

/** `transport` with its agent audio and `clear`s also reported to `tap` (marks pass through untouched). */
export function tappedTransport(transport: MediaTransport, tap: CallTap | null): MediaTransport {
  if (!tap) return transport;
  return {
    sendMedia: (m) => {
      transport.sendMedia(m);
      tap.onOutbound(m);
    },
    sendMark: (name) => transport.sendMark(name),
    sendClear: () => {
      transport.sendClear();
      tap.onClear();
    },
  };
}
