import { mulawDecode, mulawEncodeSample } from '../../../src/audio/mulaw';
import { decodeMulawSample, encodeMulawSample, float32ToMulawSample, mulawToFloat32 } from '../../../web/src/test-call/mulaw';
import { Downsampler } from '../../../web/src/test-call/downsample';

/**
 * The browser's mu-law codec (web/src/test-call/mulaw.ts) is a known parallel implementation of the server's
 * (src/audio/mulaw.ts): these checks keep them identical.
 */
describe('browser mu-law codec = server codec', () => {
  it('decodes all 256 codes to the same PCM16 values', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const server = Array.from(mulawDecode(all));
    expect(Array.from(all, (b) => decodeMulawSample(b))).toEqual(server);
    expect(Array.from(mulawToFloat32(all), (f) => Math.round(f * 32768))).toEqual(server);
    expect([decodeMulawSample(0xff), decodeMulawSample(0x00), decodeMulawSample(0x80)]).toEqual([0, -32124, 32124]);
  });

  it('encodes every int16 sample (and out-of-range and fractional values) to the same byte', () => {
    const differ: number[] = [];
    for (let s = -32768; s <= 32767; s++) if (encodeMulawSample(s) !== mulawEncodeSample(s)) differ.push(s);
    for (const s of [-40000, 40000, 0.4, -0.6, 1.5, -2.5, 100.49]) if (encodeMulawSample(s) !== mulawEncodeSample(s)) differ.push(s);
    expect(differ).toEqual([]);
  });

  it('round-trips each code through decode → encode, and Float32 samples through the same scale', () => {
    for (let b = 0; b < 256; b++) {
      const back = encodeMulawSample(decodeMulawSample(b));
      // 0x7f and 0xff are both zero: zero encodes as 0xff.
      expect(back === b || (b === 0x7f && back === 0xff)).toBe(true);
    }
    expect(float32ToMulawSample(0.5)).toBe(mulawEncodeSample(16384));
    expect(float32ToMulawSample(-1)).toBe(mulawEncodeSample(-32768));
  });
});

describe('browser downsampler (mic rate → 8 kHz)', () => {
  it('turns 48 kHz into 8 kHz: 6 inputs per output, across render quanta of 128 samples', () => {
    const down = new Downsampler(48_000);
    let outputs = 0;
    for (let q = 0; q < 375; q++) outputs += down.push(new Float32Array(128).fill(0.25)).length; // 1 s
    expect(outputs).toBe(8000);
  });

  it('keeps a 440 Hz tone and removes most of a 7 kHz tone (above the 4 kHz Nyquist) at 44.1 kHz', () => {
    const rms = (hz: number) => {
      const down = new Downsampler(44_100);
      const input = Float32Array.from({ length: 44_100 }, (_, i) => Math.sin((2 * Math.PI * hz * i) / 44_100));
      const out = down.push(input);
      expect(Math.abs(out.length - 8000)).toBeLessThanOrEqual(1);
      return Math.sqrt(out.reduce((s, x) => s + x * x, 0) / out.length);
    };
    expect(rms(440)).toBeGreaterThan(0.65); // a sine's RMS is 0.707
    expect(rms(7000)).toBeLessThan(0.2);
  });

  it('refuses an input rate below 8 kHz', () => {
    expect(() => new Downsampler(4000)).toThrow(RangeError);
  });
});
