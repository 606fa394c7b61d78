import type { Agent } from './domain/agents';
import { ProtocolError } from './telephony/protocol';
import { fillTemplate } from './domain/template';
import type { CallRow } from './db/calls';
import type { OutboundOutcomesRepo } from './db/outbound-outcomes';
import type { CallOutcomes, OutboundOptions } from './engine/outbound-call';

/** What {@link outboundSetup} gives the session factory. */
export interface OutboundSetup {
  /** The call's agent snapshot, with the contact's variables filled in and the contact's language (when the agent speaks it). */
  agent: Agent;
  /** Present for an outbound call. */
  options?: OutboundOptions;
  outcomes: CallOutcomes;
  /** Re-reads the attempt's stored AMD result (see the session factory). */
  laterAnsweredBy(): Promise<string | null>;
}

/**
 * The outbound parts of a call's session. A stream whose Parameters say `direction=outbound` with an `attemptId`
 * (put there by POST /twilio/outbound/voice) is an outbound call: its attempt gives the contact's variables
 * (filled into the greeting(s), the system prompt and the voicemail message — the campaign's, else the agent's),
 * the contact's language (the call's starting language when the agent speaks it), the contact's first time zone
 * (callbacks) and an AMD result stored before the stream. Every call gets outcome writes bound to it: an opt-out puts
 * the callee's number (`to` of an outbound call, `from` of an inbound one) on the DNC list.
 * @throws Error when an outbound stream's attempt is unknown or belongs to another call (the stream is closed).
 */
export async function outboundSetup(
  o: { repo: OutboundOutcomesRepo; greetingWaitMs: number },
  call: CallRow,
  agent: Agent,
  params: Record<string, string>,
): Promise<OutboundSetup> {
  const { repo } = o;
  const callSid = call.callSid;
  const outboundCall = params.direction === 'outbound' && !!params.attemptId;
  const outcomes: CallOutcomes = {
    optOut: ({ utterance, via }) => repo.optOut({ callSid, number: outboundCall ? call.to : call.from, utterance, via }),
    machine: async (answeredBy, source) => void (await repo.recordAmd(callSid, answeredBy, source)),
    voicemail: (played) => repo.recordVoicemail(callSid, played),
    callback: (at, said) => repo.scheduleCallback(callSid, at, said),
  };
  if (!outboundCall) return { agent, outcomes, laterAnsweredBy: async () => null };
  const attempt = await repo.attempt(params.attemptId);
  if (!attempt || (attempt.callSid && attempt.callSid !== callSid)) throw new ProtocolError('unknown attempt for this call');
  const v = attempt.variables;
  const language = attempt.language && agent.languages.includes(attempt.language) ? attempt.language : agent.defaultLanguage;
  const filled: Agent = {
    ...agent,
    defaultLanguage: language,
    systemPrompt: fillTemplate(agent.systemPrompt, v),
    firstMessage: fillTemplate(agent.firstMessage, v),
    firstMessages: Object.fromEntries(Object.entries(agent.firstMessages ?? {}).map(([l, m]) => [l, fillTemplate(m, v)])),
  };
  const voicemail = attempt.campaignVoicemail ?? agent.voicemailMessage;
  return {
    agent: filled,
    options: {
      greetingWaitMs: o.greetingWaitMs,
      voicemailMessage: voicemail ? fillTemplate(voicemail, v) || null : null,
      answeredBy: attempt.answeredBy === 'machine_start' ? null : attempt.answeredBy,
      timeZone: attempt.timezones[0] ?? null,
    },
    outcomes,
    laterAnsweredBy: async () => {
      const a = (await repo.attempt(attempt.id))?.answeredBy ?? null;
      return a === 'machine_start' ? null : a;
    },
  };
}
