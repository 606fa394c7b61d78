import type { components } from './schema';

/**
 * Shapes of the live-calls API (src/http/api/live.ts), from the generated schema. Types only (no DOM), so the page
 * state (pages/live/live-state.ts) and its unit test need nothing else.
 */
type S = components['schemas'];
export type TurnTimings = S['TurnTimings'];
export type LiveTurn = S['LiveTurn'];
export type LiveCall = S['LiveCall'];
export type LiveCallSnapshot = S['LiveCallSnapshot'];
export type LiveEvent = S['LiveEvent'];
