import { z } from 'zod';

/** What a caller's DTMF key does (per-agent menu, e.g. `{ "0": "transfer", "9": "opt_out" }`; `opt_out`: the number joins the DNC list and the call ends). */
export const dtmfActionSchema = z.enum(['transfer', 'end_call', 'repeat', 'opt_out']);
export type DtmfAction = z.infer<typeof dtmfActionSchema>;

/** A DTMF menu: key (`0`-`9`, `*`, `#`) → action. */
export const dtmfMenuSchema = z.record(z.string().regex(/^[0-9*#]$/, 'menu keys are 0-9, * or #'), dtmfActionSchema);
export type DtmfMenu = z.infer<typeof dtmfMenuSchema>;

/**
 * A per-agent HTTP tool the LLM may call (order lookups and the like). The engine POSTs the JSON arguments to `url`,
 * signed per Standard Webhooks with `secret` (`whsec_…`) when set, and gives the LLM the response text.
 */
export const httpToolSchema = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
  description: z.string().min(1).max(1000),
  /** JSON schema of the arguments (an object schema). */
  parameters: z.record(z.string(), z.unknown()).default({ type: 'object', properties: {} }),
  url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'url must be http(s)'),
  /** Standard Webhooks secret used to sign the request; never returned by the API. */
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, 'must look like whsec_<base64>').optional(),
  /** Request timeout (ms). */
  timeoutMs: z.number().int().min(100).max(10_000).default(3_000),
});
export type HttpToolSpec = z.infer<typeof httpToolSchema>;

/** TTS voice per provider family and language, e.g. `{ elevenlabs: { es: "<voiceId>" }, openai: { en: "alloy" } }`. */
export const ttsVoicesSchema = z.partialRecord(z.enum(['elevenlabs', 'openai', 'local']), z.record(z.string(), z.string().min(1)));
export type TtsVoices = z.infer<typeof ttsVoicesSchema>;
