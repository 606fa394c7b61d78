import { mulawDecodeStereo } from '../audio/mulaw';

/** mu-law silence (decodes to 0). */
const MULAW_SILENCE = 0xff;
/** Samples per ms at 8 kHz. */
const PER_MS = 8;

/**
 * One call's audio both ways on one time line (8 kHz samples from the tap's opening), as the caller heard it:
 *
 * - Caller (left): inbound frames placed back to back by sample count (Twilio sends frames continuously, silence
 *   included, 20 ms each in real time), so the left channel is exactly what was received.
 * - Agent (right): Twilio plays the audio it is sent in order at real-time rate from when it arrives if nothing is
 *   queued (PROTOCOLS.md, "Twilio Media Streams"): each chunk starts at max(now, end of the previous agent audio).
 *   A `clear` drops what has not played yet: the agent channel is cut at `now` (it then holds silence from there).
 *
 * Audio before the horizon — min(caller samples received, now) — can no longer change and is {@link take}n in
 * chunks; only that part of a call is ever held (raw mu-law, 1 byte per sample per channel), so memory is bounded by
 * how far the agent's audio is queued ahead plus the chunk size, whatever the call's length. Pure: no I/O.
 */
export class StereoTimeline {
  private readonly t0: number;
  /** Absolute sample index of buffer position 0 (everything before is taken). */
  private base = 0;
  private caller: Uint8Array = new Uint8Array(16_000).fill(MULAW_SILENCE);
  /** Caller samples held (from `base`). */
  private callerFill = 0;
  private agent: Uint8Array = new Uint8Array(16_000).fill(MULAW_SILENCE);
  /** Absolute sample index where the agent's queued audio ends. */
  private agentEnd = 0;
  /** Caller samples received in all (ms = samples / 8). */
  callerSamples = 0;

  /** @param clock monotonic ms (the engine's clock, src/engine/clock.ts; injected in tests). */
  constructor(private readonly clock: { now(): number }) {
    this.t0 = clock.now();
  }

  /** Now as an absolute sample index. */
  private nowSample(): number {
    return Math.floor((this.clock.now() - this.t0) * PER_MS);
  }

  /** A caller frame (raw mu-law, any length), appended to the left channel. */
  inbound(mulaw: Uint8Array): void {
    this.caller = ensure(this.caller, this.callerFill + mulaw.length, MULAW_SILENCE);
    this.caller.set(mulaw, this.callerFill);
    this.callerFill += mulaw.length;
    this.callerSamples += mulaw.length;
  }

  /** Agent audio sent to Twilio (raw mu-law, any length), placed at max(now, end of the agent audio before it). */
  outbound(mulaw: Uint8Array): void {
    const start = Math.max(this.nowSample(), this.agentEnd, this.base);
    const at = start - this.base;
    this.agent = ensure(this.agent, at + mulaw.length, MULAW_SILENCE);
    this.agent.set(mulaw, at);
    this.agentEnd = start + mulaw.length;
  }

  /** Twilio's `clear`: the agent audio not yet played (from now on) is removed. */
  clear(): void {
    const cut = Math.max(this.nowSample(), this.base);
    if (this.agentEnd <= cut) return;
    this.agent.fill(MULAW_SILENCE, cut - this.base, this.agentEnd - this.base);
    this.agentEnd = cut;
  }

  /** Samples (per channel) before the horizon that are not taken yet: final, ready to be written. */
  ready(): number {
    return Math.max(0, Math.min(this.base + this.callerFill, this.nowSample()) - this.base);
  }

  /**
   * Removes the first `n` samples of both channels and returns them as interleaved PCM16 little-endian bytes (4 per
   * sample pair). A channel with fewer than `n` samples held is padded with silence.
   */
  take(n: number): Buffer {
    if (n <= 0) return Buffer.alloc(0);
    this.caller = ensure(this.caller, n, MULAW_SILENCE);
    if (this.callerFill < n) this.caller.fill(MULAW_SILENCE, this.callerFill, n);
    this.agent = ensure(this.agent, n, MULAW_SILENCE);
    const out = mulawDecodeStereo(this.caller, this.agent, n);
    this.caller.copyWithin(0, n, Math.max(n, this.callerFill));
    this.callerFill = Math.max(0, this.callerFill - n);
    const agentHeld = Math.max(0, this.agentEnd - this.base);
    this.agent.copyWithin(0, n, Math.max(n, agentHeld));
    this.agent.fill(MULAW_SILENCE, Math.max(0, agentHeld - n), Math.max(agentHeld, n));
    this.base += n;
    return out;
  }

  /**
   * The call has ended: everything left, up to the later of the caller's last sample and the end of the agent audio
   * that had played by now (what was still queued was never heard). Returns it like {@link take}.
   */
  finish(): Buffer {
    const end = Math.max(this.base + this.callerFill, Math.min(this.agentEnd, this.nowSample()));
    return this.take(end - this.base);
  }
}

/** `buf` if it holds `size` bytes, else a copy at least twice as large, the new bytes set to `fill`. */
function ensure(buf: Uint8Array, size: number, fill: number): Uint8Array {
  if (size <= buf.length) return buf;
  const next = new Uint8Array(Math.max(size, buf.length * 2));
  next.set(buf);
  next.fill(fill, buf.length);
  return next;
}
