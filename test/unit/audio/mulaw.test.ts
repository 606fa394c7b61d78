import { mulawDecode, mulawEncode, mulawEncodeSample } from '../../../src/audio/mulaw';

describe('G.711 mu-law', () => {
  it('decodes the known reference values', () => {
    expect(Array.from(mulawDecode(Uint8Array.from([0xff, 0x7f, 0x00, 0x80])))).toEqual([0, 0, -32124, 32124]);
  });

  it('encodes the known reference values', () => {
    expect(mulawEncodeSample(0)).toBe(0xff);
    expect(mulawEncodeSample(32767)).toBe(0x80);
    expect(mulawEncodeSample(-32768)).toBe(0x00);
    expect(mulawEncodeSample(-1)).toBe(0x7f);
  });

  it('every byte survives decode → encode unchanged (except the duplicate zero 0x7F → 0xFF)', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const back = mulawEncode(mulawDecode(all));
    for (let i = 0; i < 256; i++) expect(back[i]).toBe(i === 0x7f ? 0xff : i);
  });

  it('round-trip error is within half a quantisation step of the segment (about 3 % relative above 1024)', () => {
    const samples = new Int16Array(65536);
    for (let i = 0; i < samples.length; i++) samples[i] = i - 32768;
    const back = mulawDecode(mulawEncode(samples));
    let worstRel = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-32635, Math.min(32635, samples[i]));
      const err = Math.abs(back[i] - s);
      // Segment step is 2^(exponent+3); the decoder returns the mid-point, so |err| ≤ step/2.
      const step = 1 << (Math.max(0, Math.floor(Math.log2((Math.abs(s) + 0x84) >> 7))) + 3);
      expect(err).toBeLessThanOrEqual(step / 2);
      if (Math.abs(s) > 1024) worstRel = Math.max(worstRel, err / Math.abs(s));
    }
    // step/2 relative to the segment start: 2^(e+2) / (2^(e+7) - 132) ≤ 0.036 for e ≥ 3.
    expect(worstRel).toBeLessThan(0.037);
    expect(worstRel).toBeGreaterThan(0.02);
  });

  it('preserves sign symmetry and monotonic ordering', () => {
    const dec = mulawDecode(Uint8Array.from({ length: 256 }, (_, i) => i));
    for (let i = 0; i < 128; i++) expect(dec[i] + dec[i + 128]).toBe(0);
    for (let i = 0x80; i < 0xff; i++) expect(dec[i]).toBeGreaterThan(dec[i + 1]);
  });
});
