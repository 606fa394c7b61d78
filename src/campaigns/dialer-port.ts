/**
 * What the API needs from the outbound dialer (implemented in src/campaigns/dialer.ts): place the call of an
 * attempt row that is already written (`call_attempts`, status `requested`). Idempotent per attempt id: a second
 * call for the same attempt never dials again (it returns the first call's sid, or throws if that dial failed).
 */
export interface DialerPort {
  /**
   * Dials attempt `attemptId` now (DNC re-check first; a listed number or a failed check → no dial).
   * @returns Twilio's callSid.
   * @throws DialRefused when the number is on the DNC list or the check could not run; Error when Twilio refused.
   */
  dial(attemptId: string): Promise<{ callSid: string }>;
}

/** A dial that must not happen (DNC listed, DNC check failed, outside the window for a campaign contact, a provider's monthly budget used up). */
export class DialRefused extends Error {
  constructor(
    readonly reason: 'dnc' | 'dnc_check_failed' | 'window' | 'campaign_not_running' | 'budget',
    message: string,
  ) {
    super(message);
    this.name = 'DialRefused';
  }
}
