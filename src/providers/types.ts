import type { Pcm } from '../audio/types';
import type { UsageSink } from '../domain/usage';

/** All times in milliseconds. Providers take typed options (never read env) and throw ProviderError. */

/** Result of one utterance transcription. `language` is ISO 639-1 (`en`) when the STT reports one. */
export interface Transcript {
  text: string;
  language?: string;
  /** 0..1 when the engine reports one. */
  confidence?: number;
}

/** Options of one transcription. */
export interface SttOptions {
  /** ISO 639-1. */
  languageHint?: string;
  signal: AbortSignal;
  /** The call's usage meter (absent: nothing is counted). */
  usage?: UsageSink;
}

export interface SttProvider {
  readonly id: string; // e.g. 'local.moonshine-base', 'fake'
  /**
   * Transcribes one complete utterance. `o.usage`: the call's usage meter; the provider that served reports the
   * seconds of audio it transcribed there (see providers/metered.ts). @throws ProviderError
   */
  transcribe(audio: Pcm, o: SttOptions): Promise<Transcript>;
  /** Loads models ahead of the first call (optional). @throws ProviderError when the engine cannot start. */
  warmup?(): Promise<void>;
  close?(): Promise<void>;
}

/** A piece of synthesized audio. `mulaw` at 8000 Hz passes straight to Twilio. */
export interface AudioChunk {
  encoding: 'mulaw' | 'pcm16';
  sampleRate: number;
  /** mulaw: one byte per sample; pcm16: little-endian 16-bit samples. */
  data: Uint8Array;
}

/** Options of one synthesis. */
export interface SynthesizeOptions {
  /** Local (espeak-ng) voice, e.g. `es`; cloud providers ignore it. */
  voice?: string;
  /** Voice per provider family for this language (the agent's `ttsVoices`), e.g. `{ elevenlabs: '<voiceId>' }`. */
  voices?: Partial<Record<'elevenlabs' | 'openai' | 'local', string>>;
  /** ISO 639-1. */
  language: string;
  signal: AbortSignal;
  /** The call's usage meter: the provider that served reports the characters it synthesized (absent: not counted). */
  usage?: UsageSink;
}

export interface TtsProvider {
  readonly id: string; // e.g. 'local.espeak-ng'
  /** Streams audio for `text`. @throws ProviderError */
  synthesize(text: string, o: SynthesizeOptions): AsyncIterable<AudioChunk>;
}

/** A tool call the LLM made (arguments: the JSON text as the model produced it). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * One message of the conversation (OpenAI chat shape, camelCased): an assistant message may carry the tool calls
 * it made, and each is answered by a `tool` message with the same `toolCallId`.
 */
export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** A knowledge-base passage retrieved for the current turn. */
export interface Passage {
  documentId: string;
  title: string;
  text: string;
  score: number;
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  system: string;
  /** Conversation so far, oldest first; the last message is the caller's current utterance. */
  messages: ChatMessage[];
  /** Retrieved knowledge for this turn, best first. */
  passages: Passage[];
  /** ISO 639-1 language the reply must be in. */
  language: string;
  /** Intents this agent knows (for classification). */
  intents: string[];
  tools?: ToolSpec[];
  /**
   * The agent's model for this request (its `llm.model`, e.g. `gpt-4o`), instead of the provider's configured one.
   * Providers without a choice of model (the local responder, the fake) ignore it.
   */
  model?: string;
  /** The agent's sampling temperature (0..2, its `llm.temperature`); providers without sampling ignore it. */
  temperature?: number;
  /** The call's usage meter: the provider that served reports its prompt / completion tokens (never sent to a vendor). */
  usage?: UsageSink;
}

export type LlmDelta =
  | { type: 'text'; text: string }
  | { type: 'intent'; intent: string; confidence: number }
  | { type: 'tool_call'; id: string; name: string; arguments: string }
  /**
   * Tokens the request consumed, as the vendor reports them (OpenAI: the last chunk's `usage` with
   * `stream_options: { include_usage: true }`). Turned into usage records by the metering layer (providers/metered.ts)
   * and never shown to consumers through a chain built by the registry.
   */
  | { type: 'usage'; promptTokens: number; completionTokens: number };

export interface LlmProvider {
  readonly id: string;
  /** Streams the reply. @throws ProviderError */
  chat(req: ChatRequest, signal: AbortSignal): AsyncIterable<LlmDelta>;
}

/**
 * Options of one embedder / vector-store call. `signal`: the caller's abort (e.g. the caller hung up or barged in);
 * the provider cancels its request (HTTP request aborted, PostgreSQL query cancelled) and the call rejects at once
 * with `signal.reason`.
 */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface Embedder {
  readonly id: string;
  readonly dimensions: number;
  /** Returns one L2-normalised vector per text. @throws ProviderError; `o.signal.reason` when aborted. */
  embed(texts: string[], o?: CallOptions): Promise<Float32Array[]>;
}

export type Metadata = Record<string, string | number | boolean>;

export interface VectorItem {
  id: string;
  values: Float32Array;
  metadata: Metadata;
}

/** Equality filter on metadata fields (Pinecone `$eq` semantics). */
export type Filter = Record<string, string | number | boolean>;

export interface Match {
  id: string;
  /** Cosine similarity, higher is closer. */
  score: number;
  metadata: Metadata;
}

/** A namespaced vector index. Every method @throws ProviderError, or rejects with `o.signal.reason` when aborted. */
export interface VectorStore {
  readonly id: string;
  upsert(ns: string, items: VectorItem[], o?: CallOptions): Promise<void>;
  query(ns: string, vector: Float32Array, k: number, filter?: Filter, o?: CallOptions): Promise<Match[]>;
  deleteByFilter(ns: string, filter: Filter, o?: CallOptions): Promise<void>;
}
