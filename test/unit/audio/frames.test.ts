import { frameMulaw, mulaw8kToPcm, pcmToMulaw8k } from '../../../src/audio/frames';

describe('frames', () => {
  it('splits mu-law into 160-byte (20 ms) frames with a short tail', () => {
    const bytes = Uint8Array.from({ length: 400 }, (_, i) => i & 0xff);
    const frames = frameMulaw(bytes);
    expect(frames.map((f) => f.length)).toEqual([160, 160, 80]);
    expect(frames[1][0]).toBe(160);
    expect(frameMulaw(bytes, 100).length).toBe(4);
    expect(frameMulaw(new Uint8Array(0))).toEqual([]);
    expect(() => frameMulaw(bytes, 0)).toThrow(/frameBytes/);
  });

  it('pcmToMulaw8k resamples 16 kHz to 8 kHz mu-law and mulaw8kToPcm brings back the tone', () => {
    const samples = Int16Array.from({ length: 16000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 500 * i) / 16000)));
    const mu = pcmToMulaw8k({ samples, sampleRate: 16000 });
    expect(mu.length).toBe(8000);
    const back = mulaw8kToPcm(mu);
    expect(back.sampleRate).toBe(8000);
    let err = 0, sig = 0;
    for (let i = 200; i < 7800; i++) {
      const ideal = 8000 * Math.sin((2 * Math.PI * 500 * i) / 8000);
      err += (back.samples[i] - ideal) ** 2;
      sig += ideal ** 2;
    }
    expect(10 * Math.log10(sig / err)).toBeGreaterThan(30); // mu-law gives ~38 dB SQNR
  });
});
