import { encodeWav, parseWav, readWavHeader } from '../../../src/audio/wav';
import { readFileSync } from 'fs';
import { join } from 'path';

function header(o: { format?: number; channels?: number; rate?: number; bits?: number; dataSize?: number; extra?: Buffer }): Buffer {
  const channels = o.channels ?? 1, bits = o.bits ?? 16, rate = o.rate ?? 8000;
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(o.format ?? 1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 16);
  fmt.writeUInt16LE((channels * bits) / 8, 20);
  fmt.writeUInt16LE(bits, 22);
  const data = Buffer.alloc(8);
  data.write('data', 0, 'ascii');
  data.writeUInt32LE(o.dataSize ?? 0, 4);
  const riff = Buffer.from('RIFF\0\0\0\0WAVE', 'binary');
  return Buffer.concat([riff, fmt, o.extra ?? Buffer.alloc(0), data]);
}

describe('WAV', () => {
  it('encodeWav → parseWav round-trips samples and rate', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const pcm = parseWav(encodeWav({ samples, sampleRate: 22050 }));
    expect(pcm.sampleRate).toBe(22050);
    expect(Array.from(pcm.samples)).toEqual(Array.from(samples));
  });

  it('parses the real 16 kHz fixture', () => {
    const pcm = parseWav(readFileSync(join(__dirname, '../../fixtures/audio/librivox-0880.wav')));
    expect(pcm.sampleRate).toBe(16000);
    expect(pcm.samples.length).toBe(47840);
  });

  it.each([0, 0xffffffff, 0x7ffff000])('takes the rest of the file when data size is 0x%s (streaming header)', (size) => {
    const body = Buffer.alloc(6);
    body.writeInt16LE(100, 0); body.writeInt16LE(-200, 2); body.writeInt16LE(300, 4);
    const pcm = parseWav(Buffer.concat([header({ dataSize: size }), body]));
    expect(Array.from(pcm.samples)).toEqual([100, -200, 300]);
  });

  it('mixes stereo down to mono and skips unknown chunks (LIST)', () => {
    const list = Buffer.concat([Buffer.from('LIST', 'ascii'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc\0', 'binary')]); // odd size + pad
    const body = Buffer.alloc(8);
    body.writeInt16LE(100, 0); body.writeInt16LE(300, 2); body.writeInt16LE(-10, 4); body.writeInt16LE(-30, 6);
    const pcm = parseWav(Buffer.concat([header({ channels: 2, dataSize: 8, extra: list }), body]));
    expect(Array.from(pcm.samples)).toEqual([200, -20]);
  });

  it('rejects what it cannot read with a clear error', () => {
    expect(() => parseWav(Buffer.from('hello world, not a wav file'))).toThrow(/RIFF/);
    expect(() => parseWav(Buffer.concat([header({ bits: 8, dataSize: 0 }), Buffer.alloc(4)]))).toThrow(/8-bit/);
    expect(() => parseWav(Buffer.concat([header({ format: 3, bits: 16, dataSize: 0 }), Buffer.alloc(4)]))).toThrow(/format tag/);
    expect(() => parseWav(Buffer.concat([header({ channels: 6, dataSize: 0 }), Buffer.alloc(4)]))).toThrow(/channel/);
    expect(() => parseWav(header({}).subarray(0, 30))).toThrow(/truncated/);
  });

  it('readWavHeader returns null on a valid but incomplete prefix (streaming)', () => {
    const h = header({ rate: 22050, dataSize: 0xffffffff });
    expect(readWavHeader(h.subarray(0, 20))).toBeNull();
    expect(readWavHeader(h)).toMatchObject({ sampleRate: 22050, channels: 1, dataOffset: 44, dataBytes: null });
  });
});
