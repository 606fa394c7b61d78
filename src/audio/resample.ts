import type { Pcm } from './types';

/**
 * Sample-rate conversion for PCM16 mono by band-limited interpolation with a Kaiser-windowed sinc
 * (J. O. Smith, "Digital Audio Resampling Home Page", CCRMA, https://ccrma.stanford.edu/~jos/resample/ ;
 * Kaiser window per J. F. Kaiser, "Nonrecursive digital filter design using the I0-sinh window function", 1974).
 *
 * The rate ratio is reduced to L/M (out/in over their gcd) and the filter is tabulated once per output phase
 * (polyphase form). When downsampling the sinc cutoff is scaled to `rolloff × outRate/2`, so the same kernel
 * is the anti-aliasing low-pass (e.g. 16 kHz → 8 kHz removes 3.6–8 kHz before decimating). Each phase is
 * normalised to unit DC gain. Output sample n sits at input time n·M/L exactly (no group delay).
 */

/** Tuning of the windowed-sinc kernel. */
export interface ResampleOptions {
  /** Zero crossings of the sinc on each side (kernel half-length in units of the lower rate's period). Default 16. */
  halfWidth?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency. Default 0.9. */
  rolloff?: number;
  /** Kaiser window beta (stop-band attenuation ≈ 8.7·beta dB for large beta). Default 8. */
  kaiserBeta?: number;
}

const MAX_TABULATED_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate <= 0 || rate > 384_000) {
    throw new Error(`${name} must be an integer sample rate in Hz (1..384000), got ${rate}`);
  }
}

/** Precomputed polyphase kernel for one (inRate, outRate, options) triple. */
class Kernel {
  readonly L: number;
  readonly M: number;
  /** Input taps before/after the centre: output uses x[i - left + 1 .. i + right]. */
  readonly left: number;
  readonly right: number;
  private readonly fc: number;
  private readonly span: number;
  private readonly beta: number;
  private readonly i0beta: number;
  private readonly table: Float32Array[] | null;

  constructor(inRate: number, outRate: number, o: ResampleOptions) {
    const g = gcd(inRate, outRate);
    this.L = outRate / g;
    this.M = inRate / g;
    const halfWidth = o.halfWidth ?? 16;
    const rolloff = o.rolloff ?? 0.9;
    this.beta = o.kaiserBeta ?? 8;
    this.i0beta = besselI0(this.beta);
    // Normalised cutoff in input-sample units: 1 = input Nyquist.
    this.fc = Math.min(1, outRate / inRate) * rolloff;
    this.span = halfWidth / this.fc; // half-length in input samples
    this.left = Math.ceil(this.span);
    this.right = Math.ceil(this.span);
    this.table = this.L <= MAX_TABULATED_PHASES ? Array.from({ length: this.L }, (_, p) => this.phase(p / this.L)) : null;
  }

  /** Taps for fractional position `frac` in [0,1): weights of x[i-left+1 .. i+right]. */
  phase(frac: number): Float32Array {
    const n = this.left + this.right;
    const taps = new Float32Array(n);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const t = j - this.left + 1 - frac; // distance from output position to input sample
      const u = t / this.span;
      if (Math.abs(u) >= 1) continue;
      const x = Math.PI * this.fc * t;
      const sinc = x === 0 ? 1 : Math.sin(x) / x;
      const w = besselI0(this.beta * Math.sqrt(1 - u * u)) / this.i0beta;
      taps[j] = sinc * w;
      sum += taps[j];
    }
    for (let j = 0; j < n; j++) taps[j] /= sum;
    return taps;
  }

  taps(p: number): Float32Array {
    return this.table ? this.table[p] : this.phase(p / this.L);
  }
}

const kernelCache = new Map<string, Kernel>();

function kernelFor(inRate: number, outRate: number, o: ResampleOptions): Kernel {
  const key = `${inRate}:${outRate}:${o.halfWidth ?? ''}:${o.rolloff ?? ''}:${o.kaiserBeta ?? ''}`;
  let k = kernelCache.get(key);
  if (!k) {
    k = new Kernel(inRate, outRate, o);
    if (kernelCache.size > 64) kernelCache.clear();
    kernelCache.set(key, k);
  }
  return k;
}

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/**
 * Chunk-by-chunk resampler with state, for streams (TTS output, VAD input). Feeding a signal in any chunking
 * and then calling {@link StreamingResampler.flush} gives exactly the output of {@link resample} on the whole
 * signal. Latency: `ceil(halfWidth / min(1, out/in))` input samples of look-ahead.
 */
export class StreamingResampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly k: Kernel;
  /** Input samples kept: buf[0] is absolute input index `bufStart`. */
  private buf = new Float32Array(0);
  private bufLen = 0;
  private bufStart = 0;
  private totalIn = 0;
  /** Next output: input index `i` (floor of n·M/L) and phase (n·M mod L). */
  private i = 0;
  private phase = 0;
  private flushed = false;

  /** @throws Error when a rate is not a positive integer ≤ 384000. */
  constructor(inRate: number, outRate: number, o: ResampleOptions = {}) {
    checkRate('inRate', inRate);
    checkRate('outRate', outRate);
    this.inRate = inRate;
    this.outRate = outRate;
    this.k = kernelFor(inRate, outRate, o);
  }

  /** Adds input samples; returns the output samples that are now fully determined (maybe none). */
  push(samples: Int16Array): Int16Array {
    if (this.flushed) throw new Error('StreamingResampler: push after flush');
    this.append(samples);
    return this.produce(this.totalIn - this.k.right); // need x[i + right] to exist
  }

  /** Ends the stream (input beyond the end counts as silence) and returns the remaining output samples. */
  flush(): Int16Array {
    if (this.flushed) return new Int16Array(0);
    this.flushed = true;
    // Total output = ceil(totalIn · L / M): outputs whose position n·M/L < totalIn.
    return this.produce(this.totalIn, true);
  }

  private append(samples: Int16Array): void {
    // Drop input no longer needed (before i - left + 1).
    const keepFrom = Math.max(this.bufStart, this.i - this.k.left + 1);
    const drop = keepFrom - this.bufStart;
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart = keepFrom;
    }
    if (this.bufLen + samples.length > this.buf.length) {
      const nb = new Float32Array(Math.max(this.bufLen + samples.length, this.buf.length * 2, 1024));
      nb.set(this.buf.subarray(0, this.bufLen));
      this.buf = nb;
    }
    for (let j = 0; j < samples.length; j++) this.buf[this.bufLen + j] = samples[j];
    this.bufLen += samples.length;
    this.totalIn += samples.length;
  }

  /** Produces outputs while `i < limit` (streaming: i + right < totalIn; flush: position < totalIn). */
  private produce(limit: number, atEnd = false): Int16Array {
    const { L, M, left } = this.k;
    const est = Math.max(0, Math.ceil(((limit - this.i + 1) * L) / M) + 1);
    const out = new Int16Array(est);
    let n = 0;
    while (this.i < limit && n < est) {
      if (atEnd && this.i >= this.totalIn) break;
      const taps = this.k.taps(this.phase);
      const first = this.i - left + 1; // absolute index of taps[0]
      let acc = 0;
      for (let j = 0; j < taps.length; j++) {
        const idx = first + j - this.bufStart;
        if (idx < 0) continue; // before stream start: silence
        if (idx >= this.bufLen) break; // after stream end (flush only): silence
        acc += taps[j] * this.buf[idx];
      }
      out[n++] = clamp16(acc);
      this.phase += M;
      while (this.phase >= L) {
        this.phase -= L;
        this.i++;
      }
    }
    return out.subarray(0, n);
  }
}

/**
 * Resamples PCM16 mono to `toRate` Hz with a Kaiser-windowed-sinc polyphase filter (see module doc); downsampling
 * low-passes at 0.9 × the new Nyquist first. Handles any integer ratio (e.g. 22050 → 8000, 16000 → 8000, 8000 → 16000).
 * @returns a new Pcm of `ceil(n · toRate / fromRate)` samples; the input itself when the rates are equal.
 * @throws Error when `toRate` or `pcm.sampleRate` is not a positive integer ≤ 384000.
 */
export function resample(pcm: Pcm, toRate: number, o: ResampleOptions = {}): Pcm {
  checkRate('pcm.sampleRate', pcm.sampleRate);
  checkRate('toRate', toRate);
  if (toRate === pcm.sampleRate) return pcm;
  const r = new StreamingResampler(pcm.sampleRate, toRate, o);
  const a = r.push(pcm.samples);
  const b = r.flush();
  const samples = new Int16Array(a.length + b.length);
  samples.set(a, 0);
  samples.set(b, a.length);
  return { samples, sampleRate: toRate };
}

/** Short kernel used on the hot path (VAD, STT input): 8 zero crossings per side (18 taps per output phase at 8k→16k). */
export const FAST_UPSAMPLE: ResampleOptions = Object.freeze({ halfWidth: 8, rolloff: 0.9, kaiserBeta: 6 });

/**
 * Fast 8 kHz → 16 kHz (×2) upsampler: 18-tap polyphase windowed sinc ({@link FAST_UPSAMPLE}); output[2k] is
 * input[k] filtered at phase 0, output[2k+1] interpolates halfway. ~18 multiply-adds per output sample.
 * @returns Int16Array of length 2 × input length.
 */
export function upsample8kTo16k(samples: Int16Array): Int16Array {
  return resample({ samples, sampleRate: 8000 }, 16000, FAST_UPSAMPLE).samples;
}
