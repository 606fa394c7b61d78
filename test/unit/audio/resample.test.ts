import { resample, StreamingResampler, upsample8kTo16k } from '../../../src/audio/resample';

function tone(freq: number, rate: number, seconds: number, amp = 10000): Int16Array {
  const n = Math.round(rate * seconds);
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate)));
}

function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
}

/** Amplitude of the `freq` component (single-bin DFT) over the middle of the signal. */
function amplitudeAt(x: Int16Array, rate: number, freq: number): number {
  const from = Math.floor(x.length / 4), to = Math.floor((3 * x.length) / 4);
  let re = 0, im = 0;
  for (let i = from; i < to; i++) {
    re += x[i] * Math.cos((2 * Math.PI * freq * i) / rate);
    im += x[i] * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

describe('resample', () => {
  it('16 kHz → 8 kHz keeps a 1 kHz tone at full amplitude and the expected length', () => {
    const out = resample({ samples: tone(1000, 16000, 1), sampleRate: 16000 }, 8000);
    expect(out.sampleRate).toBe(8000);
    expect(out.samples.length).toBe(8000);
    expect(amplitudeAt(out.samples, 8000, 1000)).toBeGreaterThan(9900);
    expect(amplitudeAt(out.samples, 8000, 1000)).toBeLessThan(10100);
  });

  it('16 kHz → 8 kHz removes a 6 kHz tone instead of aliasing it to 2 kHz (anti-aliasing low-pass)', () => {
    const out = resample({ samples: tone(6000, 16000, 1), sampleRate: 16000 }, 8000);
    expect(amplitudeAt(out.samples, 8000, 2000)).toBeLessThan(10); // < -60 dB
    expect(rms(out.samples, 400, 7600)).toBeLessThan(10);
  });

  it('22050 Hz → 8000 Hz (non-integer ratio, espeak-ng output) keeps a 440 Hz tone and kills a 7 kHz one', () => {
    const a = resample({ samples: tone(440, 22050, 1), sampleRate: 22050 }, 8000);
    expect(a.samples.length).toBe(8000);
    expect(amplitudeAt(a.samples, 8000, 440)).toBeGreaterThan(9900);
    const b = resample({ samples: tone(7000, 22050, 1), sampleRate: 22050 }, 8000);
    expect(rms(b.samples, 400, 7600)).toBeLessThan(10);
  });

  it('streaming in odd chunks gives exactly the batch result', () => {
    const x = tone(440, 22050, 0.5);
    for (let i = 0; i < x.length; i += 97) x[i] = (x[i] + 3000) | 0; // some broadband content
    const batch = resample({ samples: x, sampleRate: 22050 }, 8000).samples;
    const r = new StreamingResampler(22050, 8000);
    const parts: Int16Array[] = [];
    for (let i = 0; i < x.length; i += 333) parts.push(r.push(x.subarray(i, i + 333)));
    parts.push(r.flush());
    const joined = Int16Array.from(parts.flatMap((p) => Array.from(p)));
    expect(Array.from(joined)).toEqual(Array.from(batch));
  });

  it('upsample8kTo16k doubles the length and interpolates a 1 kHz tone with > 40 dB SNR', () => {
    const x = tone(1000, 8000, 0.5);
    const y = upsample8kTo16k(x);
    expect(y.length).toBe(2 * x.length);
    const ideal = tone(1000, 16000, 0.5);
    let err = 0, sig = 0;
    for (let i = 400; i < y.length - 400; i++) {
      err += (y[i] - ideal[i]) ** 2;
      sig += ideal[i] ** 2;
    }
    expect(10 * Math.log10(sig / err)).toBeGreaterThan(40);
  });

  it('returns the input when the rate does not change and rejects bad rates', () => {
    const p = { samples: tone(100, 8000, 0.01), sampleRate: 8000 };
    expect(resample(p, 8000)).toBe(p);
    expect(() => resample(p, 0)).toThrow(/toRate/);
    expect(() => resample({ ...p, sampleRate: 44100.5 }, 8000)).toThrow(/sampleRate/);
  });
});
