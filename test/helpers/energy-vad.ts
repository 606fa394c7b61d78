import type { VadFrame, VadStream } from '../../src/engine/vad';

/** Energy "VAD" over 32 ms windows (256 samples at 8 kHz): probability 0.9 when RMS > 500, else 0.05. */
export class EnergyVad implements VadStream {
  private buf: number[] = [];
  private n = 0;
  async push(x: Int16Array): Promise<VadFrame[]> {
    this.buf.push(...x);
    const out: VadFrame[] = [];
    while (this.buf.length >= 256) out.push(this.frame(this.buf.splice(0, 256)));
    return out;
  }
  async flush(): Promise<VadFrame[]> {
    if (!this.buf.length) return [];
    const w = this.buf.splice(0);
    while (w.length < 256) w.push(0);
    return [this.frame(w)];
  }
  reset(): void { this.buf = []; this.n = 0; }
  close(): void {}
  private frame(w: number[]): VadFrame {
    const rms = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    const startMs = this.n++ * 32;
    return { startMs, endMs: startMs + 32, probability: rms > 500 ? 0.9 : 0.05 };
  }
}
