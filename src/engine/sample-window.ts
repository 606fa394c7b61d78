const RATE = 8000;

/** Growable window of the recent 8 kHz samples, addressed by absolute sample index. */
export class SampleWindow {
  private buf = new Int16Array(RATE * 2);
  private len = 0;
  /** Absolute index of buf[0]. */
  start = 0;

  get end(): number {
    return this.start + this.len;
  }

  append(x: Int16Array): void {
    if (this.len + x.length > this.buf.length) {
      const nb = new Int16Array(Math.max(this.len + x.length, this.buf.length * 2));
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
    }
    this.buf.set(x, this.len);
    this.len += x.length;
  }

  /** Drops samples before absolute index `abs`. */
  trimBefore(abs: number): void {
    const drop = Math.min(this.len, abs - this.start);
    if (drop <= 0) return;
    this.buf.copyWithin(0, drop, this.len);
    this.len -= drop;
    this.start += drop;
  }

  /** Copy of samples in [from, to) absolute, clamped to what is held. */
  slice(from: number, to: number): Int16Array {
    const a = Math.max(0, from - this.start);
    const b = Math.min(this.len, to - this.start);
    return b > a ? this.buf.slice(a, b) : new Int16Array(0);
  }
}
