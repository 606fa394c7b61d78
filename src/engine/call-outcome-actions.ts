import type { Logger } from 'pino';
import { openingFor } from '../domain/call-settings';
import { phrase } from './call-control-phrases';
import type { TurnInput } from '../domain/calls';
import type { CallActions } from './call-actions';
import type { CallStep } from './call-plan';
import type { CallerInput } from './caller-input';
import type { InterruptionController } from './interruption';
import { OutboundFlow, type OptOutVia } from './outbound-call';
import { outcomeTools } from './outcome-tools';
import type { ToolRunnerDeps } from './tool-runner';
import type { CallSessionDeps } from './session-deps';
import type { Spoken } from './speaker';
import type { TurnJob } from './turn-queue';

/** The parts of a {@link CallSession} the outcome actions drive. */
export interface OutcomeParts {
  d: Pick<CallSessionDeps, 'agent' | 'outbound' | 'outcomes'>;
  log: Logger;
  actions: CallActions;
  interruptions: InterruptionController;
  input: CallerInput;
  ended(): boolean;
  language(): string;
  recordCaller(t: TurnInput): void;
  /** The turns stored so far (the caller's words behind an `opt_out` tool call). */
  turns(): readonly TurnInput[];
  track(p: Promise<unknown>): void;
  enqueue(kind: TurnJob['kind'], run: (signal: AbortSignal) => Promise<void>): void;
  enqueuePlan(steps: CallStep[]): void;
  /** Says `text` as the agent's own turn (stored); `say` then waits for the caller (the greeting). */
  sayLine(text: string, signal: AbortSignal): Promise<Spoken>;
  sayTurn(text: string, signal: AbortSignal): Promise<void>;
  report(err: unknown): void;
}

/**
 * The greeting and the outcomes of a call decided on the callee's side: the greeting (at once, or after an outbound
 * callee's "hello?" — {@link OutboundFlow}), an opt-out (recorded once, confirmed, hung up), a machine (voicemail
 * message, whether it played to the end, hang-up) and a fax (hang-up).
 */
export class CallOutcomeActions {
  readonly flow: OutboundFlow;
  /** The `opt_out` / `schedule_callback` tool hooks of this call (none without an outcome store). */
  readonly tools: Pick<ToolRunnerDeps, 'optOut' | 'scheduleCallback'>;
  private optedOut = false;

  constructor(private readonly p: OutcomeParts) {
    const { d } = p;
    this.tools = outcomeTools(d, (via, u) => this.optOut(via, u), p.report);
    this.flow = new OutboundFlow(d.outbound ?? null, d.outcomes ? (d.agent.optOutPhrases ?? []) : null, {
      greet: () => p.enqueue('say', (signal) => p.sayTurn(openingFor(d.agent, p.language(), (l) => phrase('recordingNotice', l)), signal)),
      consume: (u, text) => {
        p.input.take([u]);
        if (text) p.recordCaller({ role: 'caller', text, language: p.language(), startMs: u.u.startMs, endMs: u.u.endMs, intent: null });
      },
      machine: (answeredBy, source) => this.leaveVoicemail(answeredBy, source),
      optOut: (via, u) => this.optOut(via, u),
      closing: () => p.ended() || p.actions.closing !== null,
    });
  }

  /**
   * The callee opted out (a phrase, the opt-out key, or the LLM's `opt_out` tool): recorded once through `outcomes`;
   * the agent confirms (`optOut` phrase; after the tool, the LLM's own reply) and hangs up (end reason `opt_out`).
   * Said while the call is already closing or after it ended (a late transcript), it is still recorded — the number
   * joins the DNC list — but nothing more is said.
   */
  optOut(via: OptOutVia, utterance: string | null): void {
    const { p } = this;
    if (this.optedOut) return;
    const late = p.ended() || (via !== 'tool' && p.actions.closing !== null);
    this.optedOut = true;
    p.log.info({ via, late }, 'callee opted out');
    const said = via === 'tool' ? this.callerWords() : Promise.resolve(utterance);
    p.track(said.then((u) => p.d.outcomes?.optOut({ utterance: u, via })).catch(p.report));
    if (late || via === 'tool') return; // the reply confirms; its end_call action hangs up
    p.actions.beginClosing('opt_out');
    p.interruptions.interrupt('opt_out');
    p.enqueuePlan([{ type: 'say', phrase: 'optOut' }, { type: 'hangup', reason: 'opt_out' }]);
  }

  /** What the caller said that led to the LLM's `opt_out`: the words not answered yet, else the last caller turn. */
  private async callerWords(): Promise<string | null> {
    const pending = await Promise.all(this.p.input.pending.map((x) => x.transcription));
    const text = pending.map((t) => (t.ok ? t.transcript.text.trim() : '')).filter(Boolean).join(' ');
    return text || ([...this.p.turns()].reverse().find((t) => t.role === 'caller')?.text ?? null);
  }

  /** A machine answered: the voicemail message (not to a fax), whether it played to the end stored, then the hang-up. */
  leaveVoicemail(answeredBy: string, source: 'twilio-amd' | 'transcript'): void {
    const { p } = this;
    if (p.ended() || p.actions.closing) return;
    const reason = answeredBy === 'fax' ? 'fax' : 'voicemail';
    const message = reason === 'fax' ? null : (p.d.outbound?.voicemailMessage ?? null);
    p.log.info({ answeredBy, source, voicemail: !!message }, 'machine answered');
    p.actions.beginClosing(reason);
    p.interruptions.interrupt(reason);
    p.enqueue('control', async (signal) => {
      if (source === 'transcript') await p.d.outcomes?.machine(answeredBy, source).catch(p.report);
      if (message) await p.d.outcomes?.voicemail((await p.sayLine(message, signal)).complete).catch(p.report);
      await p.actions.hangup(reason);
    });
  }
}
