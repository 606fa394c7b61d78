import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { signTwilioRequest } from '../telephony/signature';
import { frameMulaw } from '../audio/frames';

/**
 * A stand-in for Twilio that places one inbound call against our server, the way Twilio does it
 * (PROTOCOLS.md): signed `POST /twilio/voice` → follow `<Connect><Stream>` → signed WebSocket upgrade → `connected`,
 * `start`, real-time 20 ms `media` frames (string sequence numbers, chunk and timestamp), `stop` → signed
 * `POST /twilio/status`. Outbound audio is "played" in real time: marks are echoed when the audio queued before them
 * has played, and `clear` drops the buffer and echoes every pending mark at once. While the agent greets, the
 * caller stays silent (silence frames, as a real line sends); then the recording is streamed; then silence until
 * the agent's reply has finished playing. With `callerTurns` the caller speaks several times, each turn either after
 * the agent went quiet or over the agent's speech (a barge-in).
 */
export interface SimulateCallOptions {
  /** Where the server really listens, e.g. http://127.0.0.1:3000 (the public URL may be a tunnel). */
  serverUrl: string;
  /** PUBLIC_BASE_URL the server signs against, e.g. https://voice.example.com. */
  publicBaseUrl: string;
  authToken: string;
  accountSid: string;
  /** Caller audio: raw 8 kHz mu-law (one turn, spoken after the greeting). Ignored when `callerTurns` is given. */
  callerMulaw?: Uint8Array;
  /** What the caller says, in order (instead of `callerMulaw`). */
  callerTurns?: CallerTurn[];
  /** After the last caller turn: wait for the agent's reply to play (default) or hang up at once. */
  afterLastTurn?: 'await_reply' | 'hang_up';
  /** Timestamps of what crosses the wire, as it happens (for benchmarks). */
  hooks?: SimulateCallHooks;
  from?: string;
  to?: string;
  /** Max wait for the greeting to finish playing (ms). */
  greetingTimeoutMs?: number;
  /** Max wait for the agent's reply after the caller's audio ended (ms). */
  replyTimeoutMs?: number;
  /** Quiet time after the last agent audio that counts as "reply finished" (ms). */
  settleMs?: number;
  /**
   * Aborted when Twilio would end the stream on its own — the call was redirected (`<Dial>` transfer) or hung up
   * through the REST API: the simulator stops waiting, sends `stop` and closes, as Twilio does.
   */
  endSignal?: AbortSignal;
  /**
   * Simulate an outbound call's answer instead of an inbound call: Twilio requests our outbound voice webhook
   * (`POST /twilio/outbound/voice?attemptId=…`, Direction `outbound-api`) once the callee picked up.
   */
  outbound?: { attemptId: string };
  /** The CallSid to use (e.g. the one a REST `calls.create` returned); default a random one. */
  callSid?: string;
  /**
   * Post the final `completed` status callback to `/twilio/status` after the stream closed (default true). An outbound
   * call placed through the REST API sends its status callbacks to its own `StatusCallback` URL instead: pass false.
   */
  finalStatusCallback?: boolean;
}

/** One caller turn of a simulated call. */
export interface CallerTurn {
  /** Raw 8 kHz mu-law the caller speaks. */
  audio: Uint8Array;
  /**
   * Unset: the caller waits until the agent's audio has played and the line has been quiet for 300 ms (at most
   * `greetingTimeoutMs` for the first turn, `replyTimeoutMs` after that). Set: the caller starts speaking once the
   * agent's audio (the greeting, or the first after the previous turn's audio ended) has been arriving for this many
   * ms — over the agent, a barge-in.
   */
  bargeInAfterMs?: number;
  /** DTMF digits the caller presses at the start of the turn (one `dtmf` event each, 100 ms apart). */
  dtmf?: string;
}

/** Callbacks with times in ms since stream start (the simulator's clock, `performance.now()` based). */
export interface SimulateCallHooks {
  /** An agent `media` frame arrived (`bytes` of mu-law). */
  onAgentMedia?(atMs: number, bytes: number): void;
  /** A `clear` arrived. */
  onClear?(atMs: number): void;
  /** Caller turn `index` was sent: its first frame went out at `startMs`, its audio ends at `endMs`. */
  onCallerTurn?(index: number, startMs: number, endMs: number): void;
}

/** What happened around one caller turn (ms since stream start). */
export interface SimulatedCallerTurn {
  /** When its first frame was sent. */
  startMs: number;
  /** When its audio ends (last frame's due time + 20 ms). */
  endMs: number;
  /** End of the turn's audio → first agent audio after it (before the next turn), or null. */
  replyLatencyMs: number | null;
  /** Start of the turn's audio → first `clear` after it (before the next turn), or null. */
  clearLatencyMs: number | null;
}

export interface SimulatedSegment {
  mark: string;
  bytes: number;
  /** ms since stream start when its first byte arrived. */
  firstAudioMs: number;
  cleared: boolean;
}

export interface SimulateCallResult {
  callSid: string;
  streamSid: string;
  twiml: string;
  segments: SimulatedSegment[];
  agentAudio: Uint8Array;
  clears: number;
  /** media payloads that started with a RIFF/WAV header (must be 0: Twilio wants raw mu-law). */
  wavHeaders: number;
  /** ms since stream start when the caller's (last) recording ended. */
  callerAudioEndMs: number;
  /** End of the (last) caller audio → first agent audio received after it (ms), or null if none came. */
  replyLatencyMs: number | null;
  /** Per caller turn, in order. */
  turns: SimulatedCallerTurn[];
  closeCode: number | null;
  closeReason: string;
  durationMs: number;
}

const FRAME_MS = 20;
const SILENCE = new Uint8Array(160).fill(0xff);

/** Places one simulated call; resolves when the stream is closed and the final status callback was posted. */
export async function simulateCall(o: SimulateCallOptions): Promise<SimulateCallResult> {
  const callSid = o.callSid ?? `CA${randomBytes(16).toString('hex')}`;
  const from = o.from ?? '+14155550100';
  const to = o.to ?? '+18005550199';
  const direction = o.outbound ? 'outbound-api' : 'inbound';
  const voiceParams = { AccountSid: o.accountSid, ApiVersion: '2010-04-01', CallSid: callSid, CallStatus: o.outbound ? 'in-progress' : 'ringing', Direction: direction, From: from, To: to };
  const voicePath = o.outbound ? `/twilio/outbound/voice?attemptId=${encodeURIComponent(o.outbound.attemptId)}` : '/twilio/voice';
  const twiml = await postSigned(o, voicePath, voiceParams);
  const stream = parseStreamTwiml(twiml);
  const wsUrl = o.serverUrl.replace(/^http/, 'ws') + new URL(stream.url).pathname;
  const ws = new WebSocket(wsUrl, { headers: { 'x-twilio-signature': signTwilioRequest(o.authToken, stream.url, {}) } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket upgrade refused: ${res.statusCode}`)));
  });

  const r = await streamCall(ws, { ...o, callSid, parameters: stream.parameters });
  if (o.finalStatusCallback !== false) await postSigned(o, '/twilio/status', {
    AccountSid: o.accountSid,
    CallSid: callSid,
    CallStatus: 'completed',
    CallDuration: String(Math.ceil(r.durationMs / 1000)),
    Direction: direction,
    From: from,
    To: to,
    SequenceNumber: '0',
  });
  return { ...r, twiml };
}

/** What {@link streamCall} needs besides {@link SimulateCallOptions}' caller behaviour. */
export type StreamCallOptions = Pick<SimulateCallOptions, 'callerMulaw' | 'callerTurns' | 'afterLastTurn' | 'hooks' | 'greetingTimeoutMs' | 'replyTimeoutMs' | 'settleMs' | 'endSignal'> & {
  /** The `start` frame's callSid and customParameters. */
  callSid: string;
  accountSid: string;
  parameters?: Record<string, string>;
};

/**
 * Plays Twilio's side of an open Media Streams WebSocket (any server speaking the protocol: the Twilio media
 * stream, the browser test call): `connected`, `start`, real-time 20 ms `media` (silence while the agent talks, then
 * each caller turn), mark echoes after the audio before them has played, `clear` handling, `stop`; resolves once
 * the socket closed (or 5 s after `stop`). Messages with other events (e.g. a web call's `transcript`) are ignored.
 */
export async function streamCall(ws: WebSocket, o: StreamCallOptions): Promise<Omit<SimulateCallResult, 'twiml'>> {
  const { callSid } = o;
  const streamSid = `MZ${randomBytes(16).toString('hex')}`;
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  let seq = 0;
  const send = (msg: Record<string, unknown>) => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ ...msg, sequenceNumber: String(++seq) }));
  let closeCode: number | null = null;
  let closeReason = '';
  const closed = new Promise<void>((resolve) =>
    ws.once('close', (code, reason) => {
      closeCode = code;
      closeReason = reason.toString();
      resolve();
    }),
  );

  // Playback model of Twilio's outbound buffer.
  let playheadEnd = 0;
  let lastAgentAudioAt = -1;
  let callerAudioEndMs = -1;
  let firstAudioAfterCaller: number | null = null;
  // Start of the current caller turn, the first clear after it, and the first agent audio since the last turn ended.
  let turnStartMs = -1;
  let firstClearAfterTurn: number | null = null;
  let firstAgentAudioSinceTurn: number | null = null;
  const hooks = o.hooks ?? {};
  const segments: SimulatedSegment[] = [];
  let current: SimulatedSegment | null = null;
  const pendingMarks = new Map<string, NodeJS.Timeout>();
  const agentChunks: Buffer[] = [];
  let clears = 0;
  let wavHeaders = 0;
  const echoMark = (name: string) => {
    pendingMarks.delete(name);
    ws.readyState === ws.OPEN && ws.send(JSON.stringify({ event: 'mark', sequenceNumber: String(++seq), streamSid, mark: { name } }));
  };
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.event === 'media') {
      const bytes = Buffer.from(msg.media.payload, 'base64');
      if (bytes.subarray(0, 4).toString('ascii') === 'RIFF') wavHeaders++;
      agentChunks.push(bytes);
      const t = now();
      if (!current) {
        current = { mark: '', bytes: 0, firstAudioMs: t, cleared: false };
        segments.push(current);
      }
      current.bytes += bytes.length;
      if (callerAudioEndMs >= 0 && firstAudioAfterCaller === null) firstAudioAfterCaller = t;
      if (firstAgentAudioSinceTurn === null) firstAgentAudioSinceTurn = t;
      lastAgentAudioAt = t;
      hooks.onAgentMedia?.(t, bytes.length);
      playheadEnd = Math.max(playheadEnd, t) + bytes.length / 8;
    } else if (msg.event === 'mark') {
      if (current) current.mark = msg.mark.name;
      else segments.push({ mark: msg.mark.name, bytes: 0, firstAudioMs: now(), cleared: false });
      current = null;
      const delay = Math.max(0, playheadEnd - now());
      pendingMarks.set(msg.mark.name, setTimeout(() => echoMark(msg.mark.name), delay));
    } else if (msg.event === 'clear') {
      clears++;
      const t = now();
      if (turnStartMs >= 0 && firstClearAfterTurn === null) firstClearAfterTurn = t;
      hooks.onClear?.(t);
      playheadEnd = t;
      for (const [name, timer] of pendingMarks) {
        clearTimeout(timer);
        const s = segments.find((x) => x.mark === name);
        if (s) s.cleared = true;
        echoMark(name);
      }
      current = null;
    }
  });

  send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  seq = 0;
  send({
    event: 'start',
    streamSid,
    start: { accountSid: o.accountSid, streamSid, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: o.parameters ?? {} },
  });

  let chunk = 0;
  let sentMs = 0;
  const sendFrame = async (frame: Uint8Array) => {
    const due = sentMs;
    sentMs += FRAME_MS;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    send({ event: 'media', streamSid, media: { track: 'inbound', chunk: String(++chunk), timestamp: String(Math.round(due)), payload: Buffer.from(frame).toString('base64') } });
  };
  const agentQuiet = (settleMs: number) => pendingMarks.size === 0 && playheadEnd <= now() && lastAgentAudioAt >= 0 && now() - lastAgentAudioAt >= settleMs;
  const settleMs = o.settleMs ?? 1500;
  const isOpen = () => ws.readyState === ws.OPEN && !o.endSignal?.aborted;

  const callerTurns: CallerTurn[] = o.callerTurns ?? (o.callerMulaw ? [{ audio: o.callerMulaw }] : []);
  const turns: SimulatedCallerTurn[] = [];
  const closeTurn = () => {
    const last = turns[turns.length - 1];
    if (!last) return;
    last.replyLatencyMs = firstAudioAfterCaller === null ? null : Math.round(firstAudioAfterCaller - last.endMs);
    last.clearLatencyMs = firstClearAfterTurn === null ? null : Math.round(firstClearAfterTurn - last.startMs);
  };
  for (let i = 0; i < callerTurns.length && isOpen(); i++) {
    const turn = callerTurns[i];
    // 1. Silence while the agent talks (the greeting, or the reply to the previous turn), or until it has talked
    //    for `bargeInAfterMs` when this turn is a barge-in.
    const deadline = now() + (i === 0 ? (o.greetingTimeoutMs ?? 20_000) : (o.replyTimeoutMs ?? 30_000));
    const ready =
      turn.bargeInAfterMs === undefined
        ? () => (i === 0 || firstAudioAfterCaller !== null) && agentQuiet(300)
        : () => firstAgentAudioSinceTurn !== null && now() - firstAgentAudioSinceTurn >= turn.bargeInAfterMs!;
    while (isOpen() && now() < deadline && !ready()) await sendFrame(SILENCE);
    closeTurn();
    // 2. The caller speaks.
    turnStartMs = sentMs;
    firstClearAfterTurn = null;
    callerAudioEndMs = -1;
    firstAudioAfterCaller = null;
    for (const digit of turn.dtmf ?? '') {
      send({ event: 'dtmf', streamSid, dtmf: { track: 'inbound_track', digit } });
      for (let k = 0; k < 5 && isOpen(); k++) await sendFrame(SILENCE);
    }
    for (const frame of frameMulaw(turn.audio, 160)) {
      if (!isOpen()) break;
      await sendFrame(frame);
    }
    callerAudioEndMs = sentMs;
    firstAgentAudioSinceTurn = null;
    turns.push({ startMs: turnStartMs, endMs: sentMs, replyLatencyMs: null, clearLatencyMs: null });
    hooks.onCallerTurn?.(i, turnStartMs, sentMs);
  }
  // 3. Silence until the reply has played and the line is quiet.
  const replyDeadline = now() + (o.replyTimeoutMs ?? 30_000);
  if (o.afterLastTurn !== 'hang_up') {
    while (isOpen() && now() < replyDeadline && !(firstAudioAfterCaller !== null && agentQuiet(settleMs))) await sendFrame(SILENCE);
  }
  closeTurn();
  // 4. Hang up.
  send({ event: 'stop', streamSid, stop: { accountSid: o.accountSid, callSid } });
  const durationMs = now();
  const closeTimer = new Promise<void>((r) => setTimeout(r, 5_000).unref());
  await Promise.race([closed, closeTimer]);
  if (ws.readyState !== ws.CLOSED) ws.terminate();
  for (const t of pendingMarks.values()) clearTimeout(t);
  return {
    callSid,
    streamSid,
    segments,
    agentAudio: new Uint8Array(Buffer.concat(agentChunks)),
    clears,
    wavHeaders,
    callerAudioEndMs,
    replyLatencyMs: firstAudioAfterCaller === null || callerAudioEndMs < 0 ? null : Math.round(firstAudioAfterCaller - callerAudioEndMs),
    turns,
    closeCode,
    closeReason,
    durationMs: Math.round(durationMs),
  };
}

/** POSTs a form signed as Twilio would sign it; returns the body; throws on a non-2xx answer. */
async function postSigned(o: SimulateCallOptions, path: string, params: Record<string, string>): Promise<string> {
  const signature = signTwilioRequest(o.authToken, o.publicBaseUrl + path, params);
  const res = await fetch(o.serverUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 200)}`);
  return body;
}

/** Extracts the `<Stream url>` and its `<Parameter>`s from `<Connect><Stream>` TwiML. @throws Error if absent. */
export function parseStreamTwiml(twiml: string): { url: string; parameters: Record<string, string> } {
  const m = /<Connect>\s*<Stream\s+url="([^"]+)"[^>]*>([\s\S]*?)<\/Stream>/.exec(twiml);
  if (!m) throw new Error(`TwiML has no <Connect><Stream>: ${twiml.slice(0, 200)}`);
  const parameters: Record<string, string> = {};
  for (const p of m[2].matchAll(/<Parameter\s+name="([^"]*)"\s+value="([^"]*)"\s*\/>/g)) parameters[xmlDecode(p[1])] = xmlDecode(p[2]);
  return { url: xmlDecode(m[1]), parameters };
}

function xmlDecode(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
