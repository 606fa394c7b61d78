/**
 * Float32 audio at the AudioContext's rate (e.g. 48 000 or 44 100 Hz) → 8000 Hz, streaming (chunks of any length,
 * e.g. the AudioWorklet's 128-sample render quanta). Each output sample is the mean of the input samples in its
 * 1/8000 s window (a box low-pass, then decimation): the window's first null lies at 8 kHz and it attenuates the
 * band above the 4 kHz Nyquist enough for speech on a test call; fractional ratios (44.1 kHz) are handled by carrying
 * the window position across chunks. Pure: no DOM.
 */
export class Downsampler {
  private readonly step: number;
  private pos = 0;
  private sum = 0;
  private count = 0;

  /** @param inputRate Hz (≥ 8000). @param outputRate Hz; default 8000. @throws RangeError when inputRate < outputRate. */
  constructor(inputRate: number, outputRate = 8000) {
    if (!(inputRate >= outputRate)) throw new RangeError(`cannot downsample ${inputRate} Hz to ${outputRate} Hz`);
    this.step = inputRate / outputRate;
  }

  /** Feeds input samples; returns the output samples completed by them (possibly none). */
  push(input: Float32Array): Float32Array {
    const out = new Float32Array(Math.ceil((input.length + this.pos + 1) / this.step) + 1);
    let n = 0;
    for (let i = 0; i < input.length; i++) {
      this.sum += input[i];
      this.count++;
      this.pos += 1;
      if (this.pos >= this.step) {
        out[n++] = this.sum / this.count;
        this.pos -= this.step;
        this.sum = 0;
        this.count = 0;
      }
    }
    return out.subarray(0, n);
  }
}
