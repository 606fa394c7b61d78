import type { VadBatcher } from './vad-batcher';
import type { VadFrame, VadStream, VadStreamOptions } from './vad';

/** Silero v5 at 8 kHz (silero-vad `utils_vad.py` OnnxWrapper): sample rate (Hz), window and context (samples). */
export const SR = 8000;
export const WINDOW = 256; // samples at 8 kHz = 32 ms (silero-vad: num_samples = 256 for sr 8000)
export const CONTEXT = 32; // silero-vad OnnxWrapper: context_size = 32 at 8 kHz
export const STATE_WIDTH = 128;
export const WINDOW_MS = (WINDOW * 1000) / SR;

/** The gate only skips windows while Silero's last probability is below this (it has settled on silence). */
export const QUIET_GATE_MAX_PROBABILITY = 0.1;

/**
 * A Silero stream over a {@link VadBatcher} (exported for tests that drive it over their own RunBatch). Windows are
 * 256 samples with 32 samples of context; a failed window yields a `failed` frame, leaves the state as it was and the
 * stream goes on with the next window.
 */
export class SileroVadStream implements VadStream {
  /** CONTEXT samples of context, then `pendingLen` samples not yet run. */
  private pending = new Float32Array(CONTEXT + WINDOW * 4);
  private pendingLen = 0;
  private state = new Float32Array(2 * STATE_WIDTH);
  private windows = 0;
  /** Probability of the last window the model ran (0 before any): the quiet gate repeats it. */
  private lastProbability = 0;
  /** Mean square (of samples in [-1, 1)) under which a window is quiet; -1 when the gate is off. */
  private readonly quietMeanSquare: number;
  /** Bumped by reset(): a window still in flight from before is dropped. */
  private generation = 0;
  private closed = false;

  constructor(private readonly batcher: VadBatcher, private readonly options: VadStreamOptions = {}) {
    const g = options.quietGateDbfs;
    if (g != null && !(g <= 0)) throw new Error(`VadStream: quietGateDbfs must be ≤ 0 dBFS, got ${g}`);
    this.quietMeanSquare = g == null ? -1 : 10 ** (g / 10);
  }

  async push(samples8k: Int16Array): Promise<VadFrame[]> {
    if (this.closed) throw new Error('VadStream: push after close');
    this.append(samples8k);
    return this.drain();
  }

  async flush(): Promise<VadFrame[]> {
    if (this.closed) throw new Error('VadStream: flush after close');
    const frames = await this.drain();
    if (this.pendingLen > 0 && !this.closed) {
      this.pending.fill(0, CONTEXT + this.pendingLen, CONTEXT + WINDOW);
      this.pendingLen = WINDOW;
      frames.push(...(await this.drain()));
    }
    return frames;
  }

  reset(): void {
    this.generation++;
    this.pending = new Float32Array(CONTEXT + WINDOW * 4);
    this.pendingLen = 0;
    this.state = new Float32Array(2 * STATE_WIDTH);
    this.windows = 0;
    this.lastProbability = 0;
  }

  close(): void {
    this.closed = true;
  }

  private append(x: Int16Array): void {
    const need = CONTEXT + this.pendingLen + x.length;
    if (need > this.pending.length) {
      const nb = new Float32Array(Math.max(need, this.pending.length * 2));
      nb.set(this.pending.subarray(0, CONTEXT + this.pendingLen));
      this.pending = nb;
    }
    const base = CONTEXT + this.pendingLen;
    for (let i = 0; i < x.length; i++) this.pending[base + i] = x[i] / 32768;
    this.pendingLen += x.length;
  }

  private async drain(): Promise<VadFrame[]> {
    const frames: VadFrame[] = [];
    const gen = this.generation;
    const pending = this.pending;
    const state = this.state;
    let failed = 0;
    let lastErr: unknown;
    try {
      let off = 0; // window starts at pending[CONTEXT + off]
      while (this.pendingLen - off >= WINDOW) {
        // The batcher reads the view and updates `state` in place when the batch runs (and leaves it as it was when
        // the batch fails).
        let probability: number;
        let ok = true;
        try {
          if (this.lastProbability < QUIET_GATE_MAX_PROBABILITY && meanSquare(pending, CONTEXT + off) < this.quietMeanSquare) {
            // Start over as a fresh stream does (zero state): the state Silero left at the end of the last speech
            // calls the next sound speech sooner than it calls the same sound after silence (measured on LibriVox:
            // 220 ms early, on the room noise before the words).
            state.fill(0);
            probability = this.lastProbability;
          } else {
            probability = this.lastProbability = await this.batcher.infer(pending.subarray(off, off + CONTEXT + WINDOW), state);
          }
        } catch (err) {
          probability = NaN;
          ok = false;
          failed++;
          lastErr = err;
        }
        if (this.closed || gen !== this.generation) return frames;
        const startMs = this.windows * WINDOW_MS;
        frames.push(ok ? { startMs, endMs: startMs + WINDOW_MS, probability } : { startMs, endMs: startMs + WINDOW_MS, probability, failed: true });
        this.windows++;
        off += WINDOW;
      }
      if (off > 0) {
        // Keep the last CONTEXT samples of the consumed audio as the next window's context.
        this.pending.copyWithin(0, off, CONTEXT + this.pendingLen);
        this.pendingLen -= off;
      }
      return frames;
    } finally {
      if (failed > 0) {
        try {
          this.options.onFailedWindows?.(failed, lastErr);
        } catch {
          // a metrics hook must not break the audio path
        }
      }
    }
  }
}

/** Mean of the squares of the WINDOW samples of `x` from `from`. */
function meanSquare(x: Float32Array, from: number): number {
  let sum = 0;
  for (let i = from, end = from + WINDOW; i < end; i++) sum += x[i] * x[i];
  return sum / WINDOW;
}
