import type { WebSocket } from 'ws';
import type { CallControl } from '../domain/ports';
import type { TurnRow } from '../domain/calls';
import { ProviderError } from '../providers/errors';

/** Close code and reason of a web call the engine hung up (RFC 6455 §7.4.1: 1000 normal closure). */
export const WEB_CALL_HANGUP = { code: 1000, reason: 'call ended by the agent' } as const;

/**
 * Server → browser messages of a web test call besides the Twilio Media Streams ones (`media`, `mark`, `clear`);
 * a Twilio-speaking client ignores them (unknown events).
 *
 * - `{ event: 'call', callSid }` — first message after the upgrade: the call's callSid; the client's `start` must
 *   carry it in `start.callSid` (any other value closes the stream with 1008).
 * - `{ event: 'transcript', callSid, turn }` — a turn was stored (`turn`: role, text, language, startMs/endMs in ms
 *   since the stream started, interrupted, seq, and for agent replies `timings`: endpointingMs, sttMs,
 *   llmFirstTokenMs, ttsFirstByteMs, replyLatencyMs…, all ms).
 */
export type WebCallEvent = { event: 'call'; callSid: string } | { event: 'transcript'; callSid: string; turn: TurnRow };

/**
 * The live browser test calls of this process, by callSid: their sockets, for call control (there is no Twilio call
 * behind them) and for the transcript events the page shows.
 */
export class WebCallRegistry {
  private readonly sockets = new Map<string, WebSocket>();

  /** Registers a web call's socket; it leaves on {@link remove}. */
  add(callSid: string, ws: WebSocket): void {
    this.sockets.set(callSid, ws);
  }

  remove(callSid: string): void {
    this.sockets.delete(callSid);
  }

  /** True when `callSid` is a live web call of this process. */
  has(callSid: string): boolean {
    return this.sockets.has(callSid);
  }

  /** Sends a {@link WebCallEvent} to the call's socket if it is open; never throws. */
  send(callSid: string, ev: WebCallEvent): void {
    const ws = this.sockets.get(callSid);
    if (!ws || ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(ev), () => undefined);
  }

  /** A stored turn of any call: web calls get a `transcript` event; other calls are not ours (no-op). */
  onTurn(callSid: string, turn: TurnRow): void {
    this.send(callSid, { event: 'transcript', callSid, turn });
  }

  /**
   * Call control for every call: a web call's hang-up closes its socket ({@link WEB_CALL_HANGUP}; the stream then
   * ends like Twilio's `stop` ends a phone call) and its transfer fails with a non-retryable ProviderError, so the
   * engine tells the caller no person can take the call and goes on; any other call goes to `phone` (Twilio REST).
   */
  callControl(phone: CallControl): CallControl {
    return {
      transfer: async (callSid, target) => {
        if (!this.sockets.has(callSid)) return phone.transfer(callSid, target);
        throw new ProviderError('web-call', 'a browser test call cannot be transferred', { retryable: false });
      },
      hangup: async (callSid) => {
        const ws = this.sockets.get(callSid);
        if (!ws) return phone.hangup(callSid);
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(WEB_CALL_HANGUP.code, WEB_CALL_HANGUP.reason);
      },
    };
  }
}
