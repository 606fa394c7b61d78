import { z } from 'zod';

/**
 * Twilio Media Streams codec (pure: JSON text frame ⇄ typed event). Wire format per
 * twilio.com/docs/voice/media-streams/websocket-messages (see shared PROTOCOLS.md): `sequenceNumber`, `chunk` and
 * `timestamp` are strings; `sampleRate`/`channels` numbers; `connected` carries no streamSid. Inbound frame sizes
 * are not fixed: payloads of any length are accepted.
 */

/** A frame that breaks the protocol. `reason` is safe to log and to send as a WebSocket close reason. */
export class ProtocolError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ProtocolError';
  }
}

/**
 * Twilio's counters as decimal strings. At most 15 digits so that the parsed number is always a safe integer
 * (a sequence number or a timestamp in ms that large never occurs on a real stream).
 */
const NUMERIC = /^\d{1,15}$/;
const numericString = z.string().regex(NUMERIC, 'must be a numeric string (at most 15 digits)');
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const connected = z.object({ event: z.literal('connected'), protocol: z.string(), version: z.string() });
const start = z.object({
  event: z.literal('start'),
  sequenceNumber: numericString,
  streamSid: z.string().min(1),
  start: z.object({
    accountSid: z.string(),
    streamSid: z.string().min(1),
    callSid: z.string().min(1),
    tracks: z.array(z.string()),
    mediaFormat: z.object({ encoding: z.string(), sampleRate: z.number().int().positive(), channels: z.number().int().positive() }),
    customParameters: z.record(z.string(), z.string()).default({}),
  }),
});
const media = z.object({
  event: z.literal('media'),
  sequenceNumber: numericString,
  streamSid: z.string().min(1),
  media: z.object({
    track: z.string().optional(),
    chunk: numericString,
    timestamp: numericString,
    payload: z.string(),
  }),
});
const dtmf = z.object({
  event: z.literal('dtmf'),
  sequenceNumber: numericString,
  streamSid: z.string().min(1),
  dtmf: z.object({ track: z.string().optional(), digit: z.string().regex(/^[0-9*#A-D]$/) }),
});
const mark = z.object({
  event: z.literal('mark'),
  sequenceNumber: numericString,
  streamSid: z.string().min(1),
  mark: z.object({ name: z.string() }),
});
const stop = z.object({
  event: z.literal('stop'),
  sequenceNumber: numericString,
  streamSid: z.string().min(1),
  stop: z.object({ accountSid: z.string().optional(), callSid: z.string().optional() }).passthrough(),
});

const inbound = z.discriminatedUnion('event', [connected, start, media, dtmf, mark, stop]);

export type ConnectedEvent = z.infer<typeof connected>;
export type StartEvent = z.infer<typeof start>;
export type DtmfEvent = z.infer<typeof dtmf>;
export type MarkEvent = z.infer<typeof mark>;
export type StopEvent = z.infer<typeof stop>;
/** A media event with its payload decoded to raw mu-law bytes; `timestampMs` since stream start. */
export interface MediaEvent {
  event: 'media';
  sequenceNumber: number;
  streamSid: string;
  track?: string;
  chunk: number;
  timestampMs: number;
  mulaw: Uint8Array;
}

export type InboundEvent = ConnectedEvent | StartEvent | MediaEvent | DtmfEvent | MarkEvent | StopEvent;

const KNOWN = new Set(['connected', 'start', 'media', 'dtmf', 'mark', 'stop']);

/**
 * Parses one Twilio → app text frame. `media` frames (50 per second per call) take a hand-checked fast path that
 * accepts exactly what the zod schema accepts; anything it does not accept, and every other event, goes through
 * zod, so errors read the same either way.
 * @throws ProtocolError on invalid JSON, an unknown event, a schema violation or a payload that is not base64.
 */
export function parseInbound(text: string): InboundEvent {
  const raw = parseJson(text);
  if (raw.event === 'media') {
    const fast = fastMedia(raw);
    if (fast) return fast;
  }
  return parseWithZod(raw);
}

/**
 * The reference parser: like {@link parseInbound} but validates every event, `media` too, with zod. Kept for tests
 * that check the fast path against it.
 * @throws ProtocolError like {@link parseInbound}.
 */
export function parseInboundStrict(text: string): InboundEvent {
  return parseWithZod(parseJson(text));
}

function parseJson(text: string): { event?: unknown } & Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('malformed JSON frame');
  }
  const eventName = (raw as { event?: unknown } | null)?.event;
  if (typeof eventName !== 'string' || !KNOWN.has(eventName)) {
    throw new ProtocolError(`unknown event ${JSON.stringify(String(eventName)).slice(0, 40)}`);
  }
  return raw as { event: string } & Record<string, unknown>;
}

function parseWithZod(raw: unknown): InboundEvent {
  const parsed = inbound.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError(`invalid ${(raw as { event: string }).event} frame: ${issue.path.join('.')} ${issue.message}`.slice(0, 120));
  }
  const ev = parsed.data;
  if (ev.event !== 'media') return ev;
  return mediaEvent(ev.sequenceNumber, ev.streamSid, ev.media.track, ev.media.chunk, ev.media.timestamp, ev.media.payload);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `media` schema checked by hand; null when zod must decide (and word the error). */
function fastMedia(raw: Record<string, unknown>): MediaEvent | null {
  const { sequenceNumber, streamSid, media: m } = raw;
  if (!isString(sequenceNumber) || !NUMERIC.test(sequenceNumber) || !isString(streamSid) || streamSid.length === 0 || !isRecord(m)) return null;
  const { track, chunk, timestamp, payload } = m;
  if ((track !== undefined && !isString(track)) || !isString(chunk) || !NUMERIC.test(chunk) || !isString(timestamp) || !NUMERIC.test(timestamp) || !isString(payload)) return null;
  return mediaEvent(sequenceNumber, streamSid, track, chunk, timestamp, payload);
}

function mediaEvent(sequenceNumber: string, streamSid: string, track: string | undefined, chunk: string, timestamp: string, payload: string): MediaEvent {
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) throw new ProtocolError('invalid media frame: payload is not base64');
  // Decode straight into a fresh (unpooled) buffer: one allocation, no copy.
  const pad = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  const mulaw = new Uint8Array((payload.length / 4) * 3 - pad);
  if (mulaw.length > 0) Buffer.from(mulaw.buffer, 0, mulaw.length).write(payload, 'base64');
  const ev: MediaEvent = { event: 'media', sequenceNumber: Number(sequenceNumber), streamSid, chunk: Number(chunk), timestampMs: Number(timestamp), mulaw };
  if (track !== undefined) ev.track = track;
  return ev;
}

/** App → Twilio `media`: raw 8 kHz mu-law (no file header), base64 encoded. */
export function mediaMessage(streamSid: string, mulaw: Uint8Array): string {
  return JSON.stringify({ event: 'media', streamSid, media: { payload: Buffer.from(mulaw.buffer, mulaw.byteOffset, mulaw.byteLength).toString('base64') } });
}

/** App → Twilio `mark`: echoed back once the audio queued before it has played (or at once after `clear`). */
export function markMessage(streamSid: string, name: string): string {
  return JSON.stringify({ event: 'mark', streamSid, mark: { name } });
}

/** App → Twilio `clear`: drops buffered outbound audio; Twilio then echoes every pending mark. */
export function clearMessage(streamSid: string): string {
  return JSON.stringify({ event: 'clear', streamSid });
}
