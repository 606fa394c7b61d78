import { LISTEN_TRACK } from '../../api/live';

/** G.711 mu-law byte → linear sample in [-1, 1) (ITU-T G.711 §A, the inverse of the 8-bit companding). */
export function mulawToFloat(u: number): number {
  const x = ~u & 0xff;
  const sign = x & 0x80;
  const exponent = (x >> 4) & 0x07;
  const mantissa = x & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return (sign ? -magnitude : magnitude) / 32768;
}

const TABLE = Float32Array.from({ length: 256 }, (_, u) => mulawToFloat(u));

/** Audio lead kept ahead of the AudioContext clock for the caller track (s): absorbs network jitter. */
const JITTER_S = 0.08;

/**
 * Plays a listen-in WebSocket's frames (src/live/listen.ts format: byte 0 the track, then 8 kHz mu-law) through an
 * AudioContext at 8000 Hz: the caller's frames one after the other in real time, the agent's after the agent audio
 * already queued (it may arrive ahead of real time), and a `clear` stops the agent audio not yet played (barge-in).
 * Both tracks are mixed: the caller on the left, the agent on the right.
 */
export class ListenPlayer {
  private readonly ctx = new AudioContext({ sampleRate: 8000 });
  private readonly out: Record<'caller' | 'agent', AudioNode>;
  private nextAt = { caller: 0, agent: 0 };
  private agentSources = new Set<AudioBufferSourceNode>();

  constructor() {
    const pan = (v: number) => {
      const p = new StereoPannerNode(this.ctx, { pan: v });
      p.connect(this.ctx.destination);
      return p;
    };
    this.out = { caller: pan(-0.6), agent: pan(0.6) };
  }

  /** Handles one binary message of the listen-in socket; unknown tracks and empty frames are ignored. */
  push(frame: ArrayBuffer): void {
    const bytes = new Uint8Array(frame);
    if (!bytes.length) return;
    const track = bytes[0];
    if (track === LISTEN_TRACK.clear) {
      for (const s of this.agentSources) s.stop();
      this.agentSources.clear();
      this.nextAt.agent = 0;
      return;
    }
    if ((track !== LISTEN_TRACK.caller && track !== LISTEN_TRACK.agent) || bytes.length < 2) return;
    const which = track === LISTEN_TRACK.caller ? 'caller' : 'agent';
    const buf = this.ctx.createBuffer(1, bytes.length - 1, 8000);
    const ch = buf.getChannelData(0);
    for (let i = 1; i < bytes.length; i++) ch[i - 1] = TABLE[bytes[i]];
    const src = new AudioBufferSourceNode(this.ctx, { buffer: buf });
    src.connect(this.out[which]);
    const at = Math.max(this.nextAt[which], this.ctx.currentTime + JITTER_S);
    src.start(at);
    this.nextAt[which] = at + buf.duration;
    if (which === 'agent') {
      this.agentSources.add(src);
      src.onended = () => this.agentSources.delete(src);
    }
  }

  /** Resumes the context (browsers start it suspended until a user gesture: call from the click). */
  resume(): Promise<void> {
    return this.ctx.resume();
  }

  /** Stops everything and frees the audio device. */
  close(): Promise<void> {
    return this.ctx.close();
  }
}
