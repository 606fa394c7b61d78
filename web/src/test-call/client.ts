/**
 * Browser test call (issue 12 §6): the microphone → AudioWorklet (8 kHz mu-law, 20 ms frames) → an authenticated
 * WebSocket to `/api/web-call` speaking the Twilio Media Streams protocol → the same engine as a phone call; the
 * agent's audio plays back (MulawPlayer), the live transcript and each reply's latency are reported as they arrive.
 * Barge-in works by talking over the agent (the server sends `clear`). Pure TS, no framework: a page wraps it.
 *
 * The WebSocket is authenticated by the session cookie (the browser sends it on the upgrade; the server checks the
 * Origin). Wire: server `{ event: 'call', callSid }` → client `connected`, `start` (that callSid, audio/x-mulaw 8000
 * Hz mono), `media` every 20 ms, `mark` echoes, `stop` at hang-up; server `media`, `mark`, `clear` and
 * `{ event: 'transcript', callSid, turn }` (src/telephony/web-calls.ts).
 */
import { CAPTURE_PROCESSOR } from './capture-format';
import { MulawPlayer } from './player';

/** One stored turn, as the server sends it (`startMs`/`endMs`: ms since the stream started). */
export interface TestCallTurn {
  seq: number;
  role: 'caller' | 'agent';
  text: string;
  language: string | null;
  startMs: number;
  endMs: number;
  interrupted?: boolean;
  /** Agent replies: per-stage latency (ms). */
  timings?: TurnLatency | null;
}

/** Per-stage latency of one agent reply (ms), as stored on the turn (mirrors the server's TurnTimings in src/domain/calls.ts; the browser shares no server code). */
export interface TurnLatency {
  endpointingMs?: number;
  sttMs?: number;
  llmFirstTokenMs?: number;
  ttsFirstByteMs?: number;
  replyLatencyMs?: number;
  turnOverheadMs?: number;
  fillerPlayed?: boolean;
}

/** How the call ended: the WebSocket close code and reason (1000 `call ended by the agent`, 1008 + a reason…). */
export interface TestCallEnd {
  code: number;
  reason: string;
  /** True when the user hung up with {@link TestCall.hangUp}. */
  byUser: boolean;
}

export interface TestCallOptions {
  /** The agent to call. */
  agentId: string;
  /**
   * URL of the bundled `audio-worklet.ts` module (with Vite: `import workletUrl from './audio-worklet.ts?worker&url'`).
   */
  workletUrl: string;
  /** WebSocket URL of `/api/web-call`; default `ws(s)://<this page's host>/api/web-call`. */
  url?: string;
  /** A stored turn (caller or agent), in order. */
  onTranscript?: (turn: TestCallTurn) => void;
  /** An agent reply's latency (the turn's `timings`). */
  onTurnLatency?: (seq: number, latency: TurnLatency) => void;
  /** The call ended (after the agent's last audio has played). */
  onEnd?: (end: TestCallEnd) => void;
  /** Microphone constraints; default echo cancellation, noise suppression and auto gain on (so the agent's voice from the speakers is not heard as the caller barging in). */
  audio?: MediaTrackConstraints;
}

/** A running test call. */
export interface TestCall {
  callSid: string;
  /** Ends the call: `stop`, socket closed, microphone released. Idempotent. */
  hangUp(): void;
  /** Agent audio received so far (bytes of 8 kHz mu-law = samples). */
  readonly agentAudioBytes: number;
}

const toBase64 = (bytes: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
};
const fromBase64 = (b64: string): Uint8Array => {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};
const randomHex = (bytes: number): string => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Starts a test call: asks for the microphone, opens the WebSocket and resolves once the server named the call.
 * @throws DOMException when the microphone is refused; Error when the socket is refused or closes before the call
 *   starts (an upgrade refused with 401/403/429 shows only as a close in browsers: the message says so).
 */
export async function startTestCall(o: TestCallOptions): Promise<TestCall> {
  const mic = await navigator.mediaDevices.getUserMedia({ audio: o.audio ?? { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
  const ctx = new AudioContext();
  let ws: WebSocket | null = null;
  try {
    await ctx.audioWorklet.addModule(o.workletUrl);
    if (ctx.state === 'suspended') await ctx.resume();
    const base = o.url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/web-call`;
    ws = new WebSocket(`${base}?agentId=${encodeURIComponent(o.agentId)}`);
    const socket = ws;
    const callSid = await new Promise<string>((resolve, reject) => {
      socket.onmessage = (m) => {
        const msg = JSON.parse(String(m.data));
        if (msg.event === 'call') resolve(msg.callSid);
      };
      socket.onclose = (e) => reject(new Error(`test call refused or closed (${e.code}${e.reason ? `: ${e.reason}` : ''}); log in, check the agent, or hang up another test call`));
    });
    return run(o, ctx, mic, socket, callSid);
  } catch (err) {
    ws?.close();
    mic.getTracks().forEach((t) => t.stop());
    void ctx.close();
    throw err;
  }
}

function run(o: TestCallOptions, ctx: AudioContext, mic: MediaStream, ws: WebSocket, callSid: string): TestCall {
  const streamSid = `MZ${randomHex(16)}`;
  const player = new MulawPlayer(ctx);
  let seq = 0;
  let chunk = 0;
  let ended = false;
  let byUser = false;
  const send = (msg: Record<string, unknown>) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ ...msg, sequenceNumber: String(++seq) }));
  };
  ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
  send({
    event: 'start',
    streamSid,
    start: { accountSid: 'web', streamSid, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {} },
  });

  const source = ctx.createMediaStreamSource(mic);
  const capture = new AudioWorkletNode(ctx, CAPTURE_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
  const mute = ctx.createGain();
  mute.gain.value = 0; // the graph pulls the worklet through here; nothing of the mic is heard
  source.connect(capture).connect(mute).connect(ctx.destination);
  capture.port.onmessage = (m: MessageEvent<Uint8Array>) => {
    const n = ++chunk;
    send({ event: 'media', streamSid, media: { track: 'inbound', chunk: String(n), timestamp: String((n - 1) * 20), payload: toBase64(m.data) } });
  };

  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data));
    if (msg.event === 'media') player.enqueue(fromBase64(msg.media.payload));
    else if (msg.event === 'mark') player.mark(msg.mark.name, (name) => send({ event: 'mark', streamSid, mark: { name } }));
    else if (msg.event === 'clear') player.clear();
    else if (msg.event === 'transcript') {
      const turn = msg.turn as TestCallTurn;
      o.onTranscript?.(turn);
      if (turn.role === 'agent' && turn.timings) o.onTurnLatency?.(turn.seq, turn.timings);
    }
  };
  const releaseMic = () => {
    capture.port.onmessage = null;
    source.disconnect();
    capture.disconnect();
    mic.getTracks().forEach((t) => t.stop());
  };
  ws.onclose = (e) => {
    if (ended) return;
    ended = true;
    releaseMic();
    // The agent's goodbye may still be queued: let it play, then report the end.
    const waitMs = byUser ? 0 : player.queuedSeconds * 1000;
    setTimeout(() => {
      player.dispose();
      void ctx.close();
      o.onEnd?.({ code: e.code, reason: e.reason, byUser });
    }, waitMs);
  };

  return {
    callSid,
    get agentAudioBytes() {
      return player.receivedBytes;
    },
    hangUp: () => {
      if (ended || byUser) return;
      byUser = true;
      send({ event: 'stop', streamSid, stop: { accountSid: 'web', callSid } });
      ws.close(1000, 'caller hung up');
    },
  };
}
