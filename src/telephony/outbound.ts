import { clearMessage, markMessage, mediaMessage } from './protocol';
import type { MediaTransport } from '../domain/ports';

/** The part of a `ws` WebSocket the outbound channel uses (a fake in unit tests). */
export interface OutboundSocket {
  /** Bytes queued in the socket but not yet handed to the kernel (`ws` WebSocket#bufferedAmount). */
  readonly bufferedAmount: number;
  readonly readyState: number;
  readonly OPEN: number;
  /** `cb` runs once the frame was written out (or failed): the channel then sends what it held back. */
  send(data: string, cb: (err?: Error) => void): void;
}

export interface OutboundOptions {
  /** Above this many bytes buffered in the socket, messages are held in the channel instead (default 256 KiB). */
  highWaterBytes?: number;
  /** More than this many bytes held back means the peer is not reading: `onOverflow` runs (default 4 MiB). */
  maxHeldBytes?: number;
  /** Coalesced media is sent once this many mu-law bytes are pending even within one turn (default 16 000 = 2 s). */
  maxCoalescedBytes?: number;
  /** Called once when the held bytes exceed `maxHeldBytes`; the channel drops everything from then on. */
  onOverflow(heldBytes: number): void;
  /** Runs `fn` at the end of the current event-loop turn (default setImmediate; tests may inject). */
  defer?: (fn: () => void) => void;
}

/**
 * The app → Twilio side of one media stream, given to the call's handler as its {@link MediaTransport}.
 *
 * - Coalescing: `sendMedia` calls made in one event-loop turn become ONE `media` message (Twilio plays outbound media
 *   in order and accepts any payload size, PROTOCOLS.md), sent before any following `mark`/`clear` and at the end
 *   of the turn. The end of the turn is `setImmediate`, not a microtask: playout sends a burst from async code
 *   (`for await` over TTS chunks), whose continuations are microtasks, so a microtask flush would cut the burst into
 *   several messages; `setImmediate` runs after all of this turn's microtasks, before the next timers, adding no
 *   timer delay. The wire order of media/mark/clear is always the call order.
 * - Backpressure: while the socket has more than `highWaterBytes` buffered, messages are held (in order) and sent as
 *   the socket's writes complete. Nothing is dropped or reordered; held bytes above `maxHeldBytes` mean the peer is
 *   not reading, and `onOverflow` closes the stream.
 * The mu-law bytes passed to `sendMedia` are copied at once: the caller may reuse its buffer.
 */
export class OutboundChannel implements MediaTransport {
  private pending = new Uint8Array(1024);
  private pendingLen = 0;
  private flushQueued = false;
  private held: string[] = [];
  private heldHead = 0;
  private heldBytes = 0;
  private closed = false;
  private readonly highWater: number;
  private readonly maxHeld: number;
  private readonly maxCoalesced: number;
  private readonly defer: (fn: () => void) => void;
  private readonly written = (): void => this.pump();
  private readonly endOfTurn = (): void => {
    this.flushQueued = false;
    this.flushMedia();
  };

  constructor(
    private readonly ws: OutboundSocket,
    private readonly streamSid: string,
    private readonly o: OutboundOptions,
  ) {
    this.highWater = o.highWaterBytes ?? 256 * 1024;
    this.maxHeld = o.maxHeldBytes ?? 4 * 1024 * 1024;
    this.maxCoalesced = o.maxCoalescedBytes ?? 16_000;
    this.defer = o.defer ?? setImmediate;
  }

  /** Bytes of messages held back because the socket is above its high-water mark. */
  get heldBackBytes(): number {
    return this.heldBytes;
  }

  sendMedia(mulaw: Uint8Array): void {
    if (this.closed || mulaw.length === 0) return;
    const need = this.pendingLen + mulaw.length;
    if (need > this.pending.length) {
      const next = new Uint8Array(Math.max(need, this.pending.length * 2));
      next.set(this.pending.subarray(0, this.pendingLen));
      this.pending = next;
    }
    this.pending.set(mulaw, this.pendingLen);
    this.pendingLen = need;
    if (this.pendingLen >= this.maxCoalesced) this.flushMedia();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      this.defer(this.endOfTurn);
    }
  }

  sendMark(name: string): void {
    this.flushMedia();
    this.write(markMessage(this.streamSid, name));
  }

  sendClear(): void {
    this.flushMedia();
    this.write(clearMessage(this.streamSid));
  }

  /** Sends the media pending from this turn now (no-op when there is none). */
  flushMedia(): void {
    if (this.pendingLen === 0) return;
    const text = mediaMessage(this.streamSid, this.pending.subarray(0, this.pendingLen));
    this.pendingLen = 0;
    if (this.pending.length > 64 * 1024) this.pending = new Uint8Array(1024); // don't keep a burst's buffer
    this.write(text);
  }

  /** The stream is over: everything pending or held is dropped and later calls are ignored. */
  close(): void {
    this.closed = true;
    this.pendingLen = 0;
    this.held = [];
    this.heldHead = 0;
    this.heldBytes = 0;
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.ws.readyState !== this.ws.OPEN) return; // the call is over; nothing can reach Twilio any more
    if (this.heldHead === this.held.length && this.ws.bufferedAmount < this.highWater) {
      this.ws.send(text, this.written);
      return;
    }
    this.held.push(text);
    this.heldBytes += text.length; // JSON of base64/ASCII names: one byte per character
    if (this.heldBytes > this.maxHeld) {
      const bytes = this.heldBytes;
      this.close();
      this.o.onOverflow(bytes);
    }
  }

  /** Sends held messages, in order, while the socket is below its high-water mark. */
  private pump(): void {
    if (this.closed || this.heldHead === this.held.length) return;
    if (this.ws.readyState !== this.ws.OPEN) return this.close();
    while (this.heldHead < this.held.length && this.ws.bufferedAmount < this.highWater) {
      const text = this.held[this.heldHead];
      this.held[this.heldHead++] = '';
      this.heldBytes -= text.length;
      this.ws.send(text, this.written);
    }
    if (this.heldHead === this.held.length) {
      this.held = [];
      this.heldHead = 0;
    } else if (this.heldHead > 1024) {
      this.held = this.held.slice(this.heldHead);
      this.heldHead = 0;
    }
  }
}
