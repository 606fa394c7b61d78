import type { TransferRecord, TurnInput } from './calls';
import type { UsageRecord } from './usage';

/**
 * What a call needs from the Twilio side of its media stream: raw 8 kHz mu-law out, marks and clear
 * (PROTOCOLS.md, "Twilio Media Streams"). Implemented by the telephony layer.
 */
export interface MediaTransport {
  /** Queues raw 8 kHz mu-law (no file header) for playout, any length. */
  sendMedia(mulaw: Uint8Array): void;
  /** Asks Twilio to echo `name` once the audio sent before it has played. */
  sendMark(name: string): void;
  /** Drops the audio Twilio has buffered; Twilio then echoes every pending mark. */
  sendClear(): void;
}

/** What the engine can do to a live call besides talking (implemented over Twilio REST). */
export interface CallControl {
  /** Redirects the live call to `target` (E.164) with `<Dial>`; our media stream then ends. @throws ProviderError */
  transfer(callSid: string, target: string): Promise<void>;
  /** Hangs the call up (`status: 'completed'`). @throws ProviderError */
  hangup(callSid: string): Promise<void>;
}

/** Where a call's rows are written (the calls repository implements it). Every method may throw on a database error. */
export interface CallStore {
  addTurn(callSid: string, t: TurnInput): Promise<number>;
  addEvent(callSid: string, type: string, payload?: Record<string, unknown>): Promise<void>;
  finish(callSid: string, f: { language: string | null; intent: string | null }): Promise<void>;
  setTransfer(callSid: string, t: TransferRecord): Promise<void>;
  setEndReason(callSid: string, reason: string): Promise<void>;
  /** Stores what the call's providers consumed (one record per provider and kind), with its estimated cost. */
  addUsage(callSid: string, records: UsageRecord[]): Promise<void>;
}
