import type { DtmfMenu, HttpToolSpec, TtsVoices } from './tools';
import type { ExtractionSchema } from './extraction-schema';
import type { AgentEndpointing, AgentLlm, AgentProviders, CsatSurvey, RecordingNotice } from './agent-settings';

/** An agent: who answers a call, in which languages and voices, and which intents it recognises. */
export interface Agent {
  id: string;
  name: string;
  systemPrompt: string;
  firstMessage: string;
  /** ISO 639-1, e.g. `en`. */
  defaultLanguage: string;
  /** ISO 639-1 codes the agent speaks. */
  languages: string[];
  /** TTS voice per ISO 639-1 language, e.g. `{ en: 'en-us' }`. */
  voices: Record<string, string>;
  intents: string[];
  /** E.164 number for a human handoff, or null. */
  handoffNumber: string | null;
  isDefault: boolean;
  /** DTMF key → action (default `{ "0": "transfer" }`). */
  dtmfMenu: DtmfMenu;
  /** Cloud TTS voices per provider family and language (`voices` above is the local espeak-ng voice). */
  ttsVoices: TtsVoices;
  /** HTTP tools the LLM may call. Their secrets never leave the server. */
  tools: HttpToolSpec[];
  /**
   * Words the agent's callers use that STT mishears (product names, places: `["Acme", "Dashwood"]`); near-misses in
   * caller transcripts are corrected to them (see `correctTranscript`). Empty (the default) turns that off.
   */
  vocabulary: string[];
  /** Greeting per ISO 639-1 language; `firstMessage` for a language without one. */
  firstMessages: Record<string, string>;
  /** STT/LLM/TTS provider overrides (absent = the server's default). */
  providers: AgentProviders;
  /** LLM model / temperature overrides. */
  llm: AgentLlm;
  /** Endpointing and barge-in overrides (ms). */
  endpointing: AgentEndpointing;
  /** Hard cap on one call (ms); null = the server's MAX_CALL_DURATION_MS. */
  maxCallDurationMs: number | null;
  /** Outbound: the message left on an answering machine; null = none. */
  voicemailMessage: string | null;
  /** Outbound: caller phrases that opt the number out. */
  optOutPhrases: string[];
  /** Whether the agent's calls are recorded (two-channel WAV; RECORDINGS_ENABLED must be true too). */
  recordCalls: boolean;
  /** "This call may be recorded", spoken before the greeting when enabled. */
  recordingNotice: RecordingNotice;
  /** Post-call analysis: the fields to extract from each call (a small JSON Schema object), or null for none. */
  extractionSchema: ExtractionSchema | null;
  /** The end-of-call DTMF CSAT survey (off unless `enabled`). */
  csatSurvey: CsatSurvey;
  /** When the agent was archived (ISO 8601), or null. An archived agent takes no new calls. */
  archivedAt: string | null;
}

/** The parts of an agent a call needs (the engine's view). */
export type AgentProfile = Pick<Agent, 'id' | 'systemPrompt' | 'firstMessage' | 'defaultLanguage' | 'languages' | 'voices' | 'intents'> &
  Partial<Pick<Agent, 'handoffNumber' | 'dtmfMenu' | 'ttsVoices' | 'tools' | 'vocabulary' | 'firstMessages' | 'providers' | 'llm' | 'endpointing' | 'maxCallDurationMs' | 'voicemailMessage' | 'optOutPhrases' | 'recordCalls' | 'recordingNotice' | 'csatSurvey'>>;
