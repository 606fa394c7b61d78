import twilio from 'twilio';
import { dialTwiml } from '../../twiml/dial';
import { ProviderError } from '../providers/errors';

/** What the engine can do to a live call besides talking (implemented over Twilio REST). */
export interface CallControl {
  /** Redirects the live call to `target` (E.164) with `<Dial>`; our media stream then ends. @throws ProviderError */
  transfer(callSid: string, target: string): Promise<void>;
  /** Hangs the call up (`status: 'completed'`). @throws ProviderError */
  hangup(callSid: string): Promise<void>;
}

/** Options of {@link TwilioCallControl}. */
export interface TwilioCallControlOptions {
  accountSid: string;
  authToken: string;
  /** twilio's RequestClient-compatible transport (tests inject a double that checks the wire request). */
  httpClient?: twilio.RequestClient;
  /** Request timeout (ms). Default 5000. */
  timeoutMs?: number;
  /**
   * PUBLIC_BASE_URL: when set, a transfer's `<Number>` gets `url=<publicBaseUrl>/twilio/whisper?callSid=<CallSid>`
   * so the human hears the stored transfer summary before the caller is bridged (src/http/routes/twilio-whisper.ts).
   */
  publicBaseUrl?: string;
}

/** Path of the whisper TwiML webhook. */
export const WHISPER_PATH = '/twilio/whisper';

/** The whisper URL of a call: only the CallSid travels (the summary is PII and stays in our database). */
export function whisperUrl(publicBaseUrl: string, callSid: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}${WHISPER_PATH}?callSid=${encodeURIComponent(callSid)}`;
}

/**
 * Call control with the official twilio client: `calls(sid).update({ twiml })` for a transfer (with a whisper `<Number url>` when `publicBaseUrl` is set) and
 * `calls(sid).update({ status: 'completed' })` for a hangup — `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`
 * (form-encoded `Twiml` / `Status`), per PROTOCOLS.md "Twilio REST". Errors become ProviderError (retryable for
 * 429/5xx/network); the auth token never appears in messages.
 */
export class TwilioCallControl implements CallControl {
  private readonly client: twilio.Twilio;
  private readonly publicBaseUrl?: string;

  constructor(o: TwilioCallControlOptions) {
    this.client = twilio(o.accountSid, o.authToken, { httpClient: o.httpClient, timeout: o.timeoutMs ?? 5_000 });
    this.publicBaseUrl = o.publicBaseUrl;
  }

  async transfer(callSid: string, target: string): Promise<void> {
    await this.update(callSid, { twiml: dialTwiml(target, this.publicBaseUrl ? { whisperUrl: whisperUrl(this.publicBaseUrl, callSid) } : {}) });
  }

  async hangup(callSid: string): Promise<void> {
    await this.update(callSid, { status: 'completed' });
  }

  private async update(callSid: string, params: { twiml?: string; status?: 'completed' }): Promise<void> {
    try {
      await this.client.calls(callSid).update(params);
    } catch (err: any) {
      const status: number | undefined = typeof err?.status === 'number' ? err.status : undefined;
      const retryable = status === undefined || status === 429 || status >= 500;
      throw new ProviderError('twilio.calls', `update failed${status ? ` (HTTP ${status})` : ''}: ${String(err?.message ?? err).slice(0, 200)}`, { retryable, status, cause: err });
    }
  }
}
