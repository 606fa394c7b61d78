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
}

/**
 * Call control with the official twilio client: `calls(sid).update({ twiml })` for a transfer and
 * `calls(sid).update({ status: 'completed' })` for a hangup — `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`
 * (form-encoded `Twiml` / `Status`), per PROTOCOLS.md "Twilio REST". Errors become ProviderError (retryable for
 * 429/5xx/network); the auth token never appears in messages.
 */
export class TwilioCallControl implements CallControl {
  private readonly client: twilio.Twilio;

  constructor(o: TwilioCallControlOptions) {
    this.client = twilio(o.accountSid, o.authToken, { httpClient: o.httpClient, timeout: o.timeoutMs ?? 5_000 });
  }

  async transfer(callSid: string, target: string): Promise<void> {
    await this.update(callSid, { twiml: dialTwiml(target) });
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
