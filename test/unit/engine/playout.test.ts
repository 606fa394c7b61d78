import { Playout, type MediaTransport } from '../../../src/engine/playout';
import type { AudioChunk } from '../../../src/providers/types';

function recorder() {
  const sent: Array<{ kind: 'media' | 'mark' | 'clear'; bytes?: number; name?: string }> = [];
  const t: MediaTransport = {
    sendMedia: (m) => sent.push({ kind: 'media', bytes: m.length }),
    sendMark: (name) => sent.push({ kind: 'mark', name }),
    sendClear: () => sent.push({ kind: 'clear' }),
  };
  return { t, sent };
}

async function* chunks(...sizes: number[]): AsyncIterable<AudioChunk> {
  for (const n of sizes) yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(n).fill(0x7f) };
}

describe('Playout', () => {
  it('sends 20 ms frames then a mark, and tracks pending marks', async () => {
    const { t, sent } = recorder();
    const p = new Playout(t);
    const r = await p.playSegment(chunks(100, 300, 45), 'turn-1-seg-1', new AbortController().signal);
    expect(r.bytes).toBe(445);
    expect(sent.filter((s) => s.kind === 'media').map((s) => s.bytes)).toEqual([160, 160, 125]);
    expect(sent.at(-1)).toEqual({ kind: 'mark', name: 'turn-1-seg-1' });
    expect(p.speaking).toBe(true);
    expect(p.onMark('turn-1-seg-1')).toBe('played');
    expect(p.speaking).toBe(false);
  });

  it('on clear, pending marks echoed afterwards are reported as cleared', async () => {
    const { t, sent } = recorder();
    const p = new Playout(t);
    await p.playSegment(chunks(800), 'a', new AbortController().signal);
    await p.playSegment(chunks(800), 'b', new AbortController().signal);
    expect(p.onMark('a')).toBe('played');
    p.clear();
    expect(sent.at(-1)).toEqual({ kind: 'clear' });
    expect(p.onMark('b')).toBe('cleared');
    expect(p.onMark('zzz')).toBe('unknown');
    expect(p.speaking).toBe(false);
  });

  it('counts as speaking while a segment is still streaming, before its mark', async () => {
    const { t } = recorder();
    const p = new Playout(t);
    let during = false;
    await p.playSegment(
      (async function* () {
        yield { encoding: 'mulaw' as const, sampleRate: 8000, data: new Uint8Array(160) };
        during = p.speaking;
      })(),
      's',
      new AbortController().signal,
    );
    expect(during).toBe(true);
  });

  it('stops without a mark when aborted', async () => {
    const { t, sent } = recorder();
    const ac = new AbortController();
    async function* slow(): AsyncIterable<AudioChunk> {
      yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(320) };
      ac.abort();
      yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(320) };
    }
    const r = await p(t).playSegment(slow(), 'x', ac.signal);
    expect(r.aborted).toBe(true);
    expect(sent.some((s) => s.kind === 'mark')).toBe(false);
    function p(tr: MediaTransport) {
      return new Playout(tr);
    }
  });

  it('converts pcm16 chunks to 8 kHz mu-law', async () => {
    const { t, sent } = recorder();
    const pcm = new Int16Array(1600); // 100 ms at 16 kHz
    const r = await new Playout(t).playSegment(
      (async function* () {
        yield { encoding: 'pcm16' as const, sampleRate: 16000, data: new Uint8Array(pcm.buffer) };
      })(),
      'm',
      new AbortController().signal,
    );
    expect(r.bytes).toBe(800);
    expect(sent.filter((s) => s.kind === 'media').length).toBe(5);
  });
});
