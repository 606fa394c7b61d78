import { simulateCall, type CallerTurn } from '../../src/cli/twilio-simulator';
import { signTwilioRequest } from '../../src/telephony/signature';
import { TwilioRestDouble, type CallEnd, type CreatedCall, type SignedCallback } from './twilio-rest-double';

/** What the dialed party does, scripted per call by the test. */
export type CalleeScript =
  /** The line never connects: only the status callbacks of `end` (busy, no-answer, failed). */
  | { kind: 'no-connect'; end: Exclude<CallEnd, 'completed'> }
  /**
   * A person answers and speaks `turns`; the call ends when they hang up or the agent hangs up over REST. After the
   * last turn they hang up once the agent has been quiet `patienceMs` after its reply started (default 300 ms; a patient
   * callee waits through a "one moment, please" filler for the real answer).
   */
  | { kind: 'human'; turns: CallerTurn[]; patienceMs?: number }
  /** An answering machine: plays `greeting`; Twilio's async AMD then reports `answeredBy` (to another server). */
  | { kind: 'machine'; greeting: Uint8Array; answeredBy: string };

/** One HTTP endpoint of our app behind the "load balancer": where it really listens. */
export interface ServerEndpoint {
  origin: string;
}

/** Options of {@link TwilioCallDriver}. */
export interface TwilioCallDriverOptions {
  rest: TwilioRestDouble;
  servers: ServerEndpoint[];
  publicBaseUrl: string;
  authToken: string;
  accountSid: string;
  /** The callee of a created call. */
  script: (call: CreatedCall) => CalleeScript;
  /** Called when a call starts ringing and when Twilio sends its terminal callback (live call bookkeeping). */
  onLive?: (call: CreatedCall, delta: 1 | -1) => void;
  /** Errors of the synthesized side (a callback answered non-2xx, a stream failed). */
  onError?: (message: string) => void;
  /** How long a callee waits for the agent's reply before the next turn or hanging up (ms). Default 8000. */
  replyTimeoutMs?: number;
}

/**
 * Plays Twilio for calls placed through the REST double (PROTOCOLS.md "Twilio REST", "Media Streams"): on each
 * `calls.create` it POSTs the signed status callbacks initiated → ringing, then, for an answered call, requests the
 * signed voice webhook `Url`, sends `answered`, opens the `<Stream>` and plays the scripted callee (simulateCall with
 * the created CallSid), and after the stream ends sends the terminal `completed` callback (with `AnsweredBy`).
 * Like a load balancer, each request goes to the next server in turn; a machine's AMD callback goes to a server other
 * than the one holding the stream (the result crosses Redis pub/sub). A REST hang-up (`Status=completed`) ends the
 * stream as Twilio would. {@link idle} resolves when every driven call has finished.
 */
export class TwilioCallDriver {
  /** Per answered call: the server that held its stream, and where its AMD callback went (if any). */
  readonly answered: { callSid: string; streamServer: string; amdServer: string | null }[] = [];
  private rr = 0;
  private readonly hangups = new Map<string, AbortController>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly o: TwilioCallDriverOptions) {
    o.rest.onCreate = (call) => this.track(this.drive(call));
    o.rest.onUpdate = (sid, data) => {
      if (data.Status === 'completed' || data.Status === 'canceled') this.hangups.get(sid)?.abort();
    };
  }

  /** Resolves when every call driven so far has ended. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private track(p: Promise<void>): void {
    const q = p.catch((err) => this.o.onError?.((err as Error).message));
    this.running.add(q);
    void q.finally(() => this.running.delete(q));
  }

  private next(): string {
    return this.o.servers[this.rr++ % this.o.servers.length].origin;
  }

  private async post(cbs: SignedCallback[], origin = this.next()): Promise<void> {
    const statuses = await TwilioRestDouble.deliver(cbs, origin);
    statuses.forEach((status, i) => {
      if (status >= 300) this.o.onError?.(`callback ${new URL(cbs[i].url).pathname} (${cbs[i].params.CallStatus ?? cbs[i].params.AnsweredBy}) answered ${status}`);
    });
  }

  private async drive(call: CreatedCall): Promise<void> {
    await new Promise((r) => setTimeout(r, 20)); // Twilio answers calls.create before it calls back
    const script = this.o.script(call);
    this.o.onLive?.(call, 1);
    const { authToken } = this.o;
    if (script.kind === 'no-connect') {
      const cbs = this.o.rest.statusCallbacks(call, script.end, authToken);
      await this.post(cbs.slice(0, -1));
      await new Promise((r) => setTimeout(r, 30));
      this.o.onLive?.(call, -1);
      await this.post(cbs.slice(-1));
      return;
    }
    const answeredBy = script.kind === 'machine' ? script.answeredBy : 'human';
    const cbs = this.o.rest.statusCallbacks(call, 'completed', authToken, { answeredBy, duration: 5 });
    const [initiated, ringing, answered, completed] = cbs;
    await this.post([initiated, ringing]);
    const origin = this.next();
    const hangup = new AbortController();
    this.hangups.set(call.sid, hangup);
    const url = new URL(call.url);
    const amdOrigin = this.o.servers.find((s) => s.origin !== origin)?.origin ?? origin;
    const sentAmd = { done: false };
    const record = { callSid: call.sid, streamServer: origin, amdServer: null as string | null };
    this.answered.push(record);
    const sim = simulateCall({
      serverUrl: origin,
      publicBaseUrl: this.o.publicBaseUrl,
      authToken,
      accountSid: call.accountSid,
      callSid: call.sid,
      from: call.from,
      to: call.to,
      outbound: { attemptId: url.searchParams.get('attemptId') ?? '' },
      finalStatusCallback: false,
      callerTurns: script.kind === 'machine' ? [{ audio: script.greeting }] : script.turns,
      greetingTimeoutMs: 400,
      afterLastTurn: 'await_reply',
      // An answering machine records until the agent hangs up (or the reply timeout), whatever pauses its message has.
      settleMs: script.kind === 'machine' ? (this.o.replyTimeoutMs ?? 8_000) : (script.patienceMs ?? 300),
      replyTimeoutMs: this.o.replyTimeoutMs ?? 8_000,
      endSignal: hangup.signal,
      hooks: {
        onCallerTurn: () => {
          if (script.kind !== 'machine' || sentAmd.done || !call.asyncAmdStatusCallback) return;
          sentAmd.done = true;
          record.amdServer = amdOrigin;
          const params = { AccountSid: call.accountSid, CallSid: call.sid, AnsweredBy: script.answeredBy, MachineDetectionDuration: '3100' };
          const cb = { url: call.asyncAmdStatusCallback, params, signature: signTwilioRequest(authToken, call.asyncAmdStatusCallback, params) };
          this.track(this.post([cb], amdOrigin));
        },
      },
    });
    // The answered callback arrives while the stream runs (Twilio does not order it against the webhook).
    const answeredPost = this.post([answered]);
    await sim;
    await answeredPost;
    this.hangups.delete(call.sid);
    this.o.onLive?.(call, -1);
    await this.post([completed]);
  }
}
