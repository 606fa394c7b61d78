import fc from 'fast-check';
import type { InboundEvent } from '../../../src/telephony/protocol';

/**
 * fast-check arbitraries for Twilio Media Streams inbound frames: well-formed frames of every event, the same with
 * one or more fields replaced by a wrong type, an empty/huge/odd string, frames with a wrong streamSid, truncated
 * or random JSON, random text, and binary frames. Shared by the codec property test, the server fuzz test and
 * bench/fuzz-media-stream.ts.
 */

/**
 * One frame as the peer sends it: a text frame, a binary frame, or (`asText`) a text frame carrying raw bytes that
 * may not be UTF-8 (the `ws` library itself closes those with 1007, RFC 6455 §8.1).
 */
export type FuzzFrame = { text: string } | { binary: Uint8Array; asText?: boolean };

/** Gives a frame a short printed form, so that a counterexample with a 1 MB frame stays readable. */
function short<T extends FuzzFrame>(f: T): T {
  if (Object.prototype.hasOwnProperty.call(f, fc.toStringMethod)) return f;
  return Object.defineProperty(f, fc.toStringMethod, {
    value: () => {
      const s = 'text' in f ? JSON.stringify(f.text) : `${f.asText ? 'text' : 'binary'}[${Array.from(f.binary).join(',')}]`;
      return s.length > 300 ? `${s.slice(0, 200)}…(${s.length} chars)` : s;
    },
  });
}

const digits = fc.integer({ min: 0, max: 1_000_000 }).map(String);
const oddValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constant(''),
  fc.constant('-1'),
  fc.constant('1e3'),
  fc.constant(' 12'),
  fc.constant('9'.repeat(16)),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constant([]),
  fc.constant({}),
  fc.integer({ min: 1_000, max: 60_000 }).map((n) => 'x'.repeat(n)), // a huge field
);

/** A base64 payload of 0..640 bytes, or sometimes not base64 at all. */
const payload = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 640 }).map((b) => Buffer.from(b).toString('base64')) },
  { weight: 1, arbitrary: fc.constantFrom('%%%', 'AAA', 'A===', '====', 'AA=A', 'QUJD\n', '////', '+/+/') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** Replaces 0..2 (possibly nested) fields of `obj` by odd values or deletes them. */
function mutate(obj: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const paths: string[][] = [];
  const walk = (o: Record<string, unknown>, prefix: string[]) => {
    for (const [k, v] of Object.entries(o)) {
      paths.push([...prefix, k]);
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, [...prefix, k]);
    }
  };
  walk(obj, []);
  const edit = fc.record({ path: fc.constantFrom(...paths), value: fc.option(oddValue, { nil: undefined, freq: 4 }) });
  return fc.array(edit, { maxLength: 2 }).map((edits) => {
    const copy = structuredClone(obj);
    for (const { path, value } of edits) {
      let o: Record<string, unknown> = copy;
      for (const k of path.slice(0, -1)) {
        const next = o[k];
        if (!next || typeof next !== 'object' || Array.isArray(next)) return copy;
        o = next as Record<string, unknown>;
      }
      if (value === undefined) delete o[path[path.length - 1]];
      else o[path[path.length - 1]] = value;
    }
    return copy;
  });
}

/** Well-formed frames (as objects) for `streamSid`. */
export function validFrame(streamSid: string, callSid: string): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({ event: 'connected', protocol: 'Call', version: '1.0.0' }) },
    {
      weight: 1,
      arbitrary: fc.record({ params: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }) }).map(({ params }) => ({
        event: 'start', sequenceNumber: '1', streamSid,
        start: { accountSid: 'AC1', streamSid, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: params },
      })),
    },
    {
      weight: 8,
      arbitrary: fc.record({ seq: digits, chunk: digits, ts: digits, payload, track: fc.option(fc.constantFrom('inbound', 'outbound'), { nil: undefined }) }).map((m) => ({
        event: 'media', sequenceNumber: m.seq, streamSid,
        media: m.track === undefined ? { chunk: m.chunk, timestamp: m.ts, payload: m.payload } : { track: m.track, chunk: m.chunk, timestamp: m.ts, payload: m.payload },
      })),
    },
    { weight: 1, arbitrary: fc.record({ seq: digits, digit: fc.constantFrom('0', '5', '*', '#', 'A', 'x', '12') }).map((d) => ({ event: 'dtmf', sequenceNumber: d.seq, streamSid, dtmf: { track: 'inbound_track', digit: d.digit } })) },
    { weight: 1, arbitrary: fc.record({ seq: digits, name: fc.string({ maxLength: 30 }) }).map((m) => ({ event: 'mark', sequenceNumber: m.seq, streamSid, mark: { name: m.name } })) },
    { weight: 1, arbitrary: digits.map((seq) => ({ event: 'stop', sequenceNumber: seq, streamSid, stop: { accountSid: 'AC1', callSid } })) },
  );
}

const huge = new Map<string, FuzzFrame[]>();
/** Two media frames of 0.95 and 1.04 MB (under the 1 MiB WebSocket limit), built once per streamSid. */
function hugeFrames(streamSid: string): FuzzFrame[] {
  let frames = huge.get(streamSid);
  if (!frames) {
    frames = [700_000, 780_000].map((n) => ({
      text: JSON.stringify({ event: 'media', sequenceNumber: '9', streamSid, media: { chunk: '1', timestamp: '0', payload: Buffer.alloc(n, 0x7f).toString('base64') } }),
    }));
    huge.set(streamSid, frames);
  }
  return frames;
}

/**
 * Any frame a peer may send on stream `streamSid`: mostly well-formed, often subtly broken, sometimes garbage.
 * `huge` adds rare frames close to the 1 MiB WebSocket limit.
 */
export function fuzzFrame(streamSid: string, callSid: string, o: { huge?: boolean } = {}): fc.Arbitrary<FuzzFrame> {
  const valid = validFrame(streamSid, callSid);
  const text = (a: fc.Arbitrary<unknown>) => a.map((v) => ({ text: JSON.stringify(v) }));
  const arbs: Array<{ weight: number; arbitrary: fc.Arbitrary<FuzzFrame> }> = [
    { weight: 10, arbitrary: text(valid) },
    { weight: 6, arbitrary: text(valid.chain(mutate)) },
    { weight: 1, arbitrary: text(valid.map((v) => ({ ...v, streamSid: 'MZother' }))) },
    { weight: 1, arbitrary: text(valid.map((v) => ({ ...v, event: 'party' }))) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.nat()).map(([v, n]) => { const s = JSON.stringify(v); return { text: s.slice(0, n % s.length) }; }) },
    { weight: 1, arbitrary: text(fc.jsonValue({ maxDepth: 3 })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }).map((s) => ({ text: s })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ binary: b })) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => ({ binary: Uint8Array.from([0x7b, ...b, 0xff]), asText: true })) },
  ];
  if (o.huge) arbs.push({ weight: 1, arbitrary: fc.constantFrom(...hugeFrames(streamSid)) });
  return fc.oneof(...arbs).map(short);
}

/**
 * A stream's life as a fuzzing peer plays it: usually a valid `start` first (so later frames reach the handler),
 * then up to `maxFrames` fuzzed frames — which include duplicate starts, media before start, other streamSids, etc.
 */
export function fuzzSequence(n: number, o: { maxFrames?: number; huge?: boolean } = {}): fc.Arbitrary<FuzzFrame[]> {
  const callSid = `CAfuzz${n}`;
  const streamSid = `MZfuzz${n}`;
  const start = validFrame(streamSid, callSid).filter((f) => f.event === 'start').map((v) => short({ text: JSON.stringify(v) }));
  return fc.tuple(fc.boolean(), fc.option(start, { freq: 4, nil: null }), fc.array(fuzzFrame(streamSid, callSid, o), { maxLength: o.maxFrames ?? 12 })).map(([connected, s, rest]) => [
    ...(connected ? [short({ text: JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }) })] : []),
    ...(s ? [s] : []),
    ...rest,
  ]);
}

const safeNat = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const str = (s: unknown) => typeof s === 'string';

/** Why `ev` is not a well-formed inbound event, or null when it is. */
export function invalidEventReason(ev: InboundEvent): string | null {
  switch (ev.event) {
    case 'connected':
      return str(ev.protocol) && str(ev.version) ? null : 'connected fields';
    case 'start': {
      const s = ev.start;
      if (!safeNat(Number(ev.sequenceNumber)) || !ev.streamSid || !s.callSid || !s.streamSid) return 'start ids';
      if (!Array.isArray(s.tracks) || !s.tracks.every(str)) return 'start tracks';
      if (!Number.isInteger(s.mediaFormat.sampleRate) || s.mediaFormat.sampleRate <= 0 || !Number.isInteger(s.mediaFormat.channels)) return 'start format';
      return Object.values(s.customParameters).every(str) ? null : 'start params';
    }
    case 'media':
      if (!safeNat(ev.sequenceNumber) || !safeNat(ev.chunk) || !safeNat(ev.timestampMs)) return 'media numbers';
      if (!ev.streamSid || !(ev.mulaw instanceof Uint8Array) || Buffer.isBuffer(ev.mulaw)) return 'media ids/bytes';
      return ev.track === undefined || str(ev.track) ? null : 'media track';
    case 'dtmf':
      return ev.streamSid && /^[0-9*#A-D]$/.test(ev.dtmf.digit) ? null : 'dtmf';
    case 'mark':
      return ev.streamSid && str(ev.mark.name) ? null : 'mark';
    case 'stop':
      return ev.streamSid ? null : 'stop';
    default:
      return 'unknown event';
  }
}
