import type { AgentProfile } from './agents';

/**
 * What one call of an agent runs with: the agent's per-agent settings (`src/domain/agent-settings.ts`) where it has
 * them, else the server's defaults (`src/config.ts`). Pure functions; the session takes them at call start from its
 * snapshot of the agent, so an edit of the agent applies to the next call, never to a call in progress.
 */

/**
 * The agent's greeting in `language` (ISO 639-1, the call's starting language: the agent's `defaultLanguage` for an
 * inbound call): `firstMessages[language]` when the agent has one for it, else `firstMessage`.
 */
export function greetingFor(agent: Pick<AgentProfile, 'firstMessage' | 'firstMessages'>, language: string): string {
  const m = agent.firstMessages;
  const text = m && Object.hasOwn(m, language) ? m[language]?.trim() : '';
  return text || agent.firstMessage;
}

/**
 * The recording notice to say before the greeting in `language`, or null when the agent's `recordingNotice` is off:
 * its `text[language]`, else its `text[defaultLanguage]`, else `builtin(language)` (the engine's own line).
 */
export function recordingNoticeFor(agent: Pick<AgentProfile, 'recordingNotice' | 'defaultLanguage'>, language: string, builtin: (language: string) => string): string | null {
  const n = agent.recordingNotice;
  if (!n?.enabled) return null;
  const own = (l: string) => (Object.hasOwn(n.text ?? {}, l) ? n.text[l]?.trim() : '');
  return own(language) || own(agent.defaultLanguage) || builtin(language);
}

/** The opening line of a call: the recording notice (when on, see {@link recordingNoticeFor}) followed by the greeting. */
export function openingFor(agent: Pick<AgentProfile, 'firstMessage' | 'firstMessages' | 'recordingNotice' | 'defaultLanguage'>, language: string, builtinNotice: (language: string) => string): string {
  const notice = recordingNoticeFor(agent, language, builtinNotice);
  const greeting = greetingFor(agent, language);
  return notice ? `${notice} ${greeting}` : greeting;
}

/** The call's time limit (ms): the agent's `maxCallDurationMs`, else the server's (MAX_CALL_DURATION_MS; 0 = none). */
export function maxCallDurationFor(agent: Pick<AgentProfile, 'maxCallDurationMs'>, serverMs: number): number {
  return agent.maxCallDurationMs ?? serverMs;
}

/** Turn-taking of one call, in ms (see `agentEndpointingSchema` for each field's env var). */
export interface EndpointingSettings {
  /** Silence that ends the caller's turn (ENDPOINTING_SILENCE_MS; the adaptive endpointing's default too). */
  silenceMs: number;
  /** Adaptive endpointing: silence after words that end a sentence (ENDPOINTING_COMPLETE_MS). */
  completeMs: number;
  /** Adaptive endpointing: silence after words that stop mid-phrase (ENDPOINTING_CONTINUING_MS). */
  continuingMs: number;
  /** Shortest utterance (VAD_MIN_SPEECH_MS). */
  minSpeechMs: number;
  /** Caller speech over the agent that interrupts it (BARGE_IN_MIN_SPEECH_MS). */
  bargeInMinSpeechMs: number;
  /** false: the caller's speech never interrupts the agent (it is kept and answered after the reply). */
  bargeIn: boolean;
}

/** Each of the agent's `endpointing` overrides, else the server's value; barge-in is on unless the agent turns it off. */
export function endpointingFor(agent: Pick<AgentProfile, 'endpointing'>, server: Omit<EndpointingSettings, 'bargeIn'>): EndpointingSettings {
  const a = agent.endpointing ?? {};
  return {
    silenceMs: a.silenceMs ?? server.silenceMs,
    completeMs: a.completeMs ?? server.completeMs,
    continuingMs: a.continuingMs ?? server.continuingMs,
    minSpeechMs: a.minSpeechMs ?? server.minSpeechMs,
    bargeInMinSpeechMs: a.bargeInMinSpeechMs ?? server.bargeInMinSpeechMs,
    bargeIn: a.bargeIn !== false,
  };
}
