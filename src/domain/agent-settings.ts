import { z } from 'zod';
import { extractionSchemaSchema } from './extraction-schema';

/**
 * Per-agent settings beyond the conversation itself (providers, LLM, endpointing, limits, outbound behaviour).
 * Every field is optional: an absent one means "the server's default" (the matching env var of `src/config.ts`).
 * Shared by the database (columns of `agents`), the management API (validation, OpenAPI) and the engine.
 */

/** STT, LLM and TTS providers an agent may ask for (the server must have each one's key; else its default is used). */
export const agentProvidersSchema = z
  .object({
    stt: z.enum(['openai', 'local', 'fake']).optional(),
    llm: z.enum(['openai', 'local', 'fake']).optional(),
    tts: z.enum(['elevenlabs', 'openai', 'local', 'fake']).optional(),
  })
  .strict();
export type AgentProviders = z.infer<typeof agentProvidersSchema>;

/** LLM overrides: model name (provider-specific, e.g. `gpt-4o-mini`) and sampling temperature 0..2. */
export const agentLlmSchema = z
  .object({
    model: z.string().trim().min(1).max(100).optional(),
    temperature: z.number().min(0).max(2).optional(),
  })
  .strict();
export type AgentLlm = z.infer<typeof agentLlmSchema>;

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * Turn-taking overrides (ms): `silenceMs` ends a turn (ENDPOINTING_SILENCE_MS), `completeMs` / `continuingMs` are the
 * adaptive endpointing's (ENDPOINTING_COMPLETE_MS / ENDPOINTING_CONTINUING_MS), `minSpeechMs` is the shortest
 * utterance (VAD_MIN_SPEECH_MS), `bargeInMinSpeechMs` how long a caller must talk over the agent to interrupt it
 * (BARGE_IN_MIN_SPEECH_MS); `bargeIn: false` lets the agent finish every reply (caller speech is still kept).
 */
export const agentEndpointingSchema = z
  .object({
    silenceMs: ms(200, 5_000).optional(),
    completeMs: ms(100, 5_000).optional(),
    continuingMs: ms(200, 10_000).optional(),
    minSpeechMs: ms(50, 2_000).optional(),
    bargeInMinSpeechMs: ms(0, 3_000).optional(),
    bargeIn: z.boolean().optional(),
  })
  .strict();
export type AgentEndpointing = z.infer<typeof agentEndpointingSchema>;

const lang = z.string().regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code like "en"');

/**
 * The "this call may be recorded" line spoken before the greeting (`enabled`, default off): `text` per ISO 639-1
 * language; a language without its own line uses the agent's `defaultLanguage` line, else the built-in one of
 * `src/engine/call-control-phrases.ts` (`recordingNotice`).
 */
export const recordingNoticeSchema = z
  .object({
    enabled: z.boolean(),
    text: z.record(lang, z.string().trim().min(1).max(500)).default({}),
  })
  .strict();
export type RecordingNotice = z.infer<typeof recordingNoticeSchema>;

/**
 * The optional end-of-call CSAT survey (issue 13 §5; default off): when the agent ends the conversation itself (its
 * `end_call`), it says `prompt` (per ISO 639-1 language; else the `defaultLanguage` line, else the built-in
 * `csatPrompt` of `src/engine/call-control-phrases.ts`), waits up to `timeoutMs` (default 8000) for one DTMF digit
 * 1–5, thanks the caller and hangs up. Never on a transfer, voicemail, opt-out, caller hang-up or drain.
 */
export const csatSurveySchema = z
  .object({
    enabled: z.boolean(),
    prompt: z.record(lang, z.string().trim().min(1).max(500)).optional(),
    timeoutMs: ms(2_000, 30_000).optional(),
  })
  .strict();
export type CsatSurvey = z.infer<typeof csatSurveySchema>;

/** The settings columns of an agent, with their defaults (what an agent created without them gets). */
export const agentSettingsShape = {
  /** Greeting per ISO 639-1 language; `firstMessage` is used for a language without one. */
  firstMessages: z.record(lang, z.string().trim().min(1).max(2_000)).default({}),
  providers: agentProvidersSchema.default({}),
  llm: agentLlmSchema.default({}),
  endpointing: agentEndpointingSchema.default({}),
  /** Hard cap on one call of this agent (ms, 10 s .. 4 h); null = MAX_CALL_DURATION_MS. */
  maxCallDurationMs: ms(10_000, 4 * 3_600_000).nullable().default(null),
  /** What an outbound call leaves on an answering machine; null = hang up without a message. */
  voicemailMessage: z.string().trim().min(1).max(2_000).nullable().default(null),
  /** Caller phrases that opt the number out of further calls ("stop calling me"), matched case-insensitively. */
  optOutPhrases: z.array(z.string().trim().min(2).max(100)).max(50).default([]),
  /** Whether this agent's calls are recorded (when RECORDINGS_ENABLED); default true. */
  recordCalls: z.boolean().default(true),
  /** The recording notice spoken before the greeting; default off. */
  recordingNotice: recordingNoticeSchema.default({ enabled: false, text: {} }),
  /** The fields post-call analysis extracts from each call (src/domain/extraction-schema.ts); null = none. */
  extractionSchema: extractionSchemaSchema.nullable().default(null),
  /** The end-of-call DTMF CSAT survey; default off. */
  csatSurvey: csatSurveySchema.default({ enabled: false }),
};
