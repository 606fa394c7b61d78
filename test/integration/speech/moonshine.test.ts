import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { wordErrorRate } from '../../../src/eval/wer';
import { ProviderError } from '../../../src/providers/errors';
import { DEFAULT_MOONSHINE_DIR, MoonshineStt, type MoonshineSize } from '../../../src/providers/stt/moonshine';
import { RECORDINGS, phoneAudio, reference } from './fixtures';

const signal = () => new AbortController().signal;

/**
 * Measured WER (2026-12-02, deterministic greedy decoding) plus about one word of margin, so a regression of the
 * offline STT path (resampling, mu-law, decoding, detokenizing) fails. base: 4.5 / 0 / 0 % on 22 / 8 / 14 words
 * ("mister" is written "Mr."), 2.3 % overall; tiny: 4.5 / 12.5 / 0 %, 4.5 % overall ("ill-sposed").
 */
const MAX_WER: Record<MoonshineSize, { files: Record<string, number>; overall: number }> = {
  base: { files: { 'librivox-0870': 0.1, 'librivox-0880': 0.13, 'librivox-0890': 0.08 }, overall: 0.05 },
  tiny: { files: { 'librivox-0870': 0.1, 'librivox-0880': 0.26, 'librivox-0890': 0.08 }, overall: 0.08 },
};

describe('MoonshineStt on real speech through the 8 kHz mu-law path', () => {
  const stt = new MoonshineStt(); // base, 2 workers
  const extra: MoonshineStt[] = [];
  const dirs: string[] = [];
  const make = (o: ConstructorParameters<typeof MoonshineStt>[0]) => {
    const p = new MoonshineStt(o);
    extra.push(p);
    return p;
  };
  beforeAll(() => stt.warmup(), 60_000);
  afterAll(async () => {
    await Promise.all([stt, ...extra].map((p) => p.close()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const texts: Record<string, string> = {};

  it.each(['base', 'tiny'] as const)('%s: WER per recording and overall within the pinned bounds; English, confident', async (size) => {
    const p = size === 'base' ? stt : make({ size, concurrency: 1 });
    const rows: string[] = [];
    let errors = 0;
    let words = 0;
    for (const name of RECORDINGS) {
      const audio = phoneAudio(name);
      const t0 = performance.now();
      const t = await p.transcribe(audio, { signal: signal() });
      const ms = performance.now() - t0;
      if (size === 'base') texts[name] = t.text;
      const w = wordErrorRate(reference(name), t.text);
      errors += w.substitutions + w.deletions + w.insertions;
      words += w.referenceWords;
      rows.push(`${name}: WER ${(w.wer * 100).toFixed(1)} % (S${w.substitutions} D${w.deletions} I${w.insertions} / ${w.referenceWords}), ${ms.toFixed(0)} ms for ${(audio.samples.length / 8).toFixed(0)} ms of audio — "${t.text}"`);
      expect(t.language).toBe('en');
      expect(t.confidence).toBeGreaterThan(0.7); // English read speech: mean token log-probability above −0.36
      expect(w.wer).toBeLessThanOrEqual(MAX_WER[size].files[name]);
    }
    // eslint-disable-next-line no-console
    console.log(`Moonshine ${size} (8 kHz mu-law → 16 kHz):\n${rows.join('\n')}\noverall WER ${((100 * errors) / words).toFixed(1)} % on ${words} words`);
    expect(errors / words).toBeLessThanOrEqual(MAX_WER[size].overall);
  }, 60_000);

  it('silence gives empty text; empty audio gives empty text without decoding', async () => {
    expect(await stt.transcribe({ samples: new Int16Array(8000), sampleRate: 8000 }, { signal: signal() })).toEqual({ text: '', language: 'en' });
    expect(await stt.transcribe({ samples: new Int16Array(0), sampleRate: 8000 }, { signal: signal() })).toEqual({ text: '', language: 'en' });
  });

  it('with 2 workers, two utterances decode at once; more requests than workers queue and get their own answers', async () => {
    const names = [...RECORDINGS, 'librivox-0880'];
    const pending = names.map((n) => stt.transcribe(phoneAudio(n), { signal: signal() }));
    await new Promise((r) => setImmediate(r)); // the model-file check is awaited before a request is queued
    await new Promise((r) => setTimeout(r, 50));
    expect(stt.busySlots()).toEqual([true, true]);
    expect(stt.stats()).toMatchObject({ running: 2, queued: 2 });
    const results = await Promise.all(pending);
    names.forEach((n, i) => expect(results[i].text).toBe(texts[n]));
  });

  it('abort: a running request rejects at once and its worker goes on; a queued one is never decoded', async () => {
    const one = make({ concurrency: 1 });
    await one.warmup();
    const running = new AbortController();
    const queued = new AbortController();
    const a = one.transcribe(phoneAudio('librivox-0870'), { signal: running.signal });
    const b = one.transcribe(phoneAudio('librivox-0870'), { signal: queued.signal });
    const c = one.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    await new Promise((r) => setTimeout(r, 100));
    expect(one.stats()).toMatchObject({ running: 1, queued: 2 });
    queued.abort();
    running.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    await expect(b).rejects.toMatchObject({ name: 'AbortError' });
    expect(one.stats().skippedAborted).toBe(1);
    expect((await c).text).toBe(texts['librivox-0880']);
    expect(one.stats()).toMatchObject({ workersStarted: 1, workersLost: 0 });
  });

  it('a request timeout rejects as retryable and the queue goes on', async () => {
    // 1 ms for utterances over 4 s (always expires), 20 s for shorter ones.
    const one = make({ concurrency: 1, requestTimeoutMs: (audioMs) => (audioMs > 4000 ? 1 : 20_000) });
    await one.warmup();
    const slow = one.transcribe(phoneAudio('librivox-0890'), { signal: signal() });
    const next = one.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    const err = await slow.catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/decode timed out after 1 ms/);
    expect((await next).text).toBe(texts['librivox-0880']);
  });

  it('a crashing worker fails only its request; the next one runs on a new worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moonshine-crash-'));
    dirs.push(dir);
    // Wraps the real worker: the first decode of a 6.5 s+ utterance (0890) throws before the real handler sees it.
    const script = join(dir, 'crashing-worker.js');
    writeFileSync(
      script,
      `const { parentPort } = require('worker_threads');
let crashed = false;
parentPort.on('message', (m) => { if (m.type === 'decode' && m.samples.length > 16000 * 5 && !crashed) { crashed = true; throw new Error('simulated crash'); } });
require(${JSON.stringify(join(__dirname, '../../../src/providers/stt/moonshine-worker.js'))});
`,
    );
    const one = make({ concurrency: 1, workerPath: script });
    await one.warmup();
    const doomed = one.transcribe(phoneAudio('librivox-0890'), { signal: signal() });
    const queued = one.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    const err = await doomed.catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/worker lost during decode: .*simulated crash|worker lost during decode/);
    expect((await queued).text).toBe(texts['librivox-0880']);
    expect(one.stats()).toMatchObject({ workersStarted: 2, workersLost: 1 });
  });

  it('close() rejects queued and running requests as retryable', async () => {
    const one = make({ concurrency: 1 });
    await one.warmup();
    const outcomes = [0, 1].map(() => one.transcribe(phoneAudio('librivox-0870'), { signal: signal() }).then(() => 'resolved', (e) => e));
    await new Promise((r) => setTimeout(r, 50));
    await one.close();
    for (const r of outcomes) expect(await r).toMatchObject({ name: 'ProviderError', retryable: true, message: expect.stringMatching(/closed/) });
    await expect(one.transcribe(phoneAudio('librivox-0880'), { signal: signal() })).rejects.toMatchObject({ retryable: true });
  });

  it('a missing or corrupt model file is a clear non-retryable error naming `npm run fetch-models`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moonshine-models-'));
    dirs.push(dir);
    const missing = make({ size: 'tiny', modelDir: dir });
    await expect(missing.warmup()).rejects.toMatchObject({ name: 'ProviderError', retryable: false, message: expect.stringMatching(/encoder_model\.onnx is missing: run `npm run fetch-models`/) });
    mkdirSync(join(dir, 'tiny'));
    copyFileSync(join(DEFAULT_MOONSHINE_DIR, 'tiny/encoder_model.onnx'), join(dir, 'tiny/encoder_model.onnx'));
    writeFileSync(join(dir, 'tiny/decoder_model_merged.onnx'), 'not a model');
    const corrupt = make({ size: 'tiny', modelDir: dir });
    const err = await corrupt.transcribe(phoneAudio('librivox-0880'), { signal: signal() }).catch((e) => e);
    expect(err).toMatchObject({ name: 'ProviderError', retryable: false });
    expect(err.message).toMatch(/decoder_model_merged\.onnx is corrupt \(sha256 [0-9a-f]{64}, expected eed87831.*\): run `npm run fetch-models`/);
  });

  it('rejects invalid options', () => {
    expect(() => new MoonshineStt({ concurrency: 0 })).toThrow(/concurrency must be a positive integer/);
    expect(() => new MoonshineStt({ size: 'large' as MoonshineSize })).toThrow(/size must be base or tiny/);
  });
});
