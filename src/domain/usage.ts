/**
 * Usage and cost of calls (issue 12 "Usage and cost"): what each provider served a call, in the unit the vendor
 * bills, and the estimated cost from a price table. Pure types and arithmetic; no I/O.
 */

/**
 * What was consumed: STT audio (seconds of audio transcribed), LLM prompt / completion tokens, TTS characters
 * synthesized, telephony minutes (Twilio's `CallDuration`, billed per started minute) of an inbound or outbound call.
 */
export type UsageKind = 'stt_audio' | 'llm_prompt' | 'llm_completion' | 'tts_characters' | 'telephony_inbound' | 'telephony_outbound';
export type UsageUnit = 'seconds' | 'tokens' | 'characters' | 'minutes';

export const USAGE_KINDS: readonly UsageKind[] = ['stt_audio', 'llm_prompt', 'llm_completion', 'tts_characters', 'telephony_inbound', 'telephony_outbound'];

/** The unit a kind is counted in, and the block its price is quoted per (e.g. USD per 1,000,000 tokens). */
export const KIND_UNITS: Readonly<Record<UsageKind, { unit: UsageUnit; pricePer: number; priceLabel: string }>> = {
  stt_audio: { unit: 'seconds', pricePer: 60, priceLabel: 'USD per minute of audio' },
  llm_prompt: { unit: 'tokens', pricePer: 1_000_000, priceLabel: 'USD per 1M prompt tokens' },
  llm_completion: { unit: 'tokens', pricePer: 1_000_000, priceLabel: 'USD per 1M completion tokens' },
  tts_characters: { unit: 'characters', pricePer: 1_000, priceLabel: 'USD per 1K characters' },
  telephony_inbound: { unit: 'minutes', pricePer: 1, priceLabel: 'USD per minute' },
  telephony_outbound: { unit: 'minutes', pricePer: 1, priceLabel: 'USD per minute' },
};

/** One quantity a provider served (`provider`: the id of the provider that actually served, e.g. `openai.chat`). */
export interface UsageRecord {
  provider: string;
  kind: UsageKind;
  /** In the kind's unit ({@link KIND_UNITS}). */
  quantity: number;
}

/** Where providers report what they served during one call (called at utterance / reply granularity, never per frame). */
export type UsageSink = (u: UsageRecord) => void;

/** Prices: provider id → kind → USD per the kind's price block ({@link KIND_UNITS}). A missing price costs 0. */
export type PriceTable = Readonly<Record<string, Partial<Record<UsageKind, number>>>>;

/** `base` with `override`'s providers merged in kind by kind (an override names only what it changes). */
export function mergePrices(base: PriceTable, override: PriceTable): PriceTable {
  const out: Record<string, Partial<Record<UsageKind, number>>> = {};
  for (const [p, kinds] of Object.entries(base)) out[p] = { ...kinds };
  for (const [p, kinds] of Object.entries(override)) out[p] = { ...out[p], ...kinds };
  return out;
}

/** Estimated cost (USD, unrounded) of `quantity` of `kind` served by `provider`; 0 when the table has no price. The defaults are in src/config.ts (DEFAULT_PRICES). */
export function costUsd(u: UsageRecord, prices: PriceTable): number {
  const price = prices[u.provider]?.[u.kind] ?? 0;
  return (u.quantity / KIND_UNITS[u.kind].pricePer) * price;
}

/**
 * Telephony minutes Twilio bills for a call of `callDurationS` seconds (its `CallDuration` status-callback field,
 * PROTOCOLS.md "Twilio REST"): per started minute, so 61 s → 2 minutes; 0 s → 0.
 */
export function billedMinutes(callDurationS: number): number {
  return Math.ceil(Math.max(0, callDurationS) / 60);
}

/** A provider's monthly budget state: `warning` from 80 % of the budget, `exceeded` from 100 %. */
export type BudgetLevel = 'ok' | 'warning' | 'exceeded';

/** The level of `spentUsd` against `budgetUsd` (80 % warns, 100 % stops new outbound dials). */
export function budgetLevel(spentUsd: number, budgetUsd: number): BudgetLevel {
  if (spentUsd >= budgetUsd) return 'exceeded';
  if (spentUsd >= 0.8 * budgetUsd) return 'warning';
  return 'ok';
}
