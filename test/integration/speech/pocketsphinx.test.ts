import { wordErrorRate } from '../../../src/eval/wer';
import { ProviderError } from '../../../src/providers/errors';
import { LocalPocketsphinxStt } from '../../../src/providers/stt/local-pocketsphinx';
import { RECORDINGS, phoneAudio, reference } from './fixtures';

const signal = () => new AbortController().signal;

describe('LocalPocketsphinxStt on real speech through the 8 kHz mu-law path', () => {
  const stt = new LocalPocketsphinxStt(); // default pool: 2 workers
  const extra: LocalPocketsphinxStt[] = [];
  /** A provider closed after all tests. */
  const make = (o: ConstructorParameters<typeof LocalPocketsphinxStt>[0]) => {
    const p = new LocalPocketsphinxStt(o);
    extra.push(p);
    return p;
  };
  beforeAll(() => stt.warmup());
  afterAll(() => Promise.all([stt, ...extra].map((p) => p.close())));
  const texts: Record<string, string> = {};
  const soloMs: Record<string, number> = {};
  /**
   * Measured WER per recording (pocketsphinx is deterministic: 41 / 38 / 29 % on 22 / 8 / 14 reference words) plus a
   * margin of one or two words, so a regression of the offline STT path (resampling, mu-law, decoder setup) fails.
   */
  const MAX_WER: Record<string, number> = { 'librivox-0870': 0.5, 'librivox-0880': 0.5, 'librivox-0890': 0.43 };

  it('warmup starts every worker of the pool', () => {
    expect(stt.workerPids).toHaveLength(2);
    expect(new Set(stt.workerPids).size).toBe(2);
  });

  it('transcribes each recording within its pinned WER and reports WER and time', async () => {
    const rows: string[] = [];
    for (const name of RECORDINGS) {
      const audio = phoneAudio(name);
      const t0 = performance.now();
      const t = await stt.transcribe(audio, { signal: signal() });
      const ms = performance.now() - t0;
      texts[name] = t.text;
      soloMs[name] = ms;
      const w = wordErrorRate(reference(name), t.text);
      rows.push(`${name}: WER ${(w.wer * 100).toFixed(0)}% (S${w.substitutions} D${w.deletions} I${w.insertions} / ${w.referenceWords}), ${ms.toFixed(0)} ms for ${(audio.samples.length / 8).toFixed(0)} ms of audio`);
      expect(t.text.trim().length).toBeGreaterThan(0);
      expect(t.language).toBeUndefined();
      expect(w.wer).toBeLessThanOrEqual(MAX_WER[name]);
    }
    // eslint-disable-next-line no-console
    console.log(`pocketsphinx (8 kHz mu-law → 16 kHz):\n${rows.join('\n')}`);
  });

  it('with 2 workers, two utterances decode concurrently on different workers', async () => {
    const pids = stt.workerPids;
    const names = ['librivox-0870', 'librivox-0890'] as const;
    const t0 = performance.now();
    const pending = names.map((n) => stt.transcribe(phoneAudio(n), { signal: signal() }));
    const busy = stt.busyWorkerPids; // requests are written synchronously when workers are idle
    const results = await Promise.all(pending);
    const both = performance.now() - t0;
    expect(new Set(busy).size).toBe(2);
    names.forEach((n, i) => expect(results[i].text).toBe(texts[n]));
    // eslint-disable-next-line no-console
    console.log(`concurrent: ${both.toFixed(0)} ms vs ${(soloMs[names[0]] + soloMs[names[1]]).toFixed(0)} ms one after the other`);
    // Speed is a benchmark figure, not an assertion (CI runs other suites beside this one); concurrency is proven by
    // both workers being busy at once above.
    expect(stt.workerPids).toEqual(pids);
  });

  it('matches more concurrent requests than workers to their answers (queued in Node)', async () => {
    const names = [...RECORDINGS, 'librivox-0880'];
    const pending = names.map((n) => stt.transcribe(phoneAudio(n), { signal: signal() }));
    expect(stt.stats).toMatchObject({ inFlight: 2, queued: 2 });
    const results = await Promise.all(pending);
    names.forEach((n, i) => expect(results[i].text).toBe(texts[n]));
  });

  it('rejects promptly on abort and keeps serving later requests', async () => {
    const ac = new AbortController();
    const p = stt.transcribe(phoneAudio('librivox-0870'), { signal: ac.signal });
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(300);
    const after = await stt.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    expect(after.text).toBe(texts['librivox-0880']);
  });

  it('never sends a request that was aborted while queued', async () => {
    const one = make({ workers: 1 });
    await one.warmup();
    const before = one.stats;
    const first = one.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    const ac = new AbortController();
    const aborted = one.transcribe(phoneAudio('librivox-0870'), { signal: ac.signal });
    const last = one.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    expect(one.stats).toMatchObject({ inFlight: 1, queued: 2 });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(one.stats.queued).toBe(1);
    expect((await first).text).toBe(texts['librivox-0880']);
    expect((await last).text).toBe(texts['librivox-0880']);
    const after = one.stats;
    expect(after.sent - before.sent).toBe(2);
    expect(after.skippedAborted - before.skippedAborted).toBe(1);
  });

  it('a request timeout rejects as retryable, restarts the worker, and the queue goes on', async () => {
    // 1 ms for utterances over 4 s (always expires), 20 s for shorter ones.
    const one = make({ workers: 1, requestTimeoutMs: (audioMs) => (audioMs > 4000 ? 1 : 20000) });
    await one.warmup();
    const pid = one.workerPid;
    const slow = one.transcribe(phoneAudio('librivox-0890'), { signal: signal() });
    const queued = one.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    const err = await slow.catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/no answer within 1 ms/);
    expect((await queued).text).toBe(texts['librivox-0880']);
    expect(one.workerPid).toBeDefined();
    expect(one.workerPid).not.toBe(pid);
    const next = await one.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    expect(next.text).toBe(texts['librivox-0880']);
  });

  it('a dying worker fails only its in-flight request; the queue goes on on a restarted worker', async () => {
    const one = make({ workers: 1 });
    await one.warmup();
    const inFlight = one.transcribe(phoneAudio('librivox-0890'), { signal: signal() });
    const queued = one.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    const [pid] = one.busyWorkerPids;
    process.kill(pid, 'SIGKILL');
    await expect(inFlight).rejects.toMatchObject({ name: 'ProviderError', retryable: true });
    expect((await queued).text).toBe(texts['librivox-0880']);
    expect(one.workerPid).not.toBe(pid);
    const again = await one.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    expect(again.text).toBe(texts['librivox-0880']);
  });

  it('in a pool, killing one worker fails only the request that worker was decoding', async () => {
    const [a, b] = [stt.transcribe(phoneAudio('librivox-0890'), { signal: signal() }), stt.transcribe(phoneAudio('librivox-0880'), { signal: signal() })];
    const [pidA, pidB] = stt.busyWorkerPids; // slot order: the first request went to the first worker
    process.kill(pidA, 'SIGKILL');
    await expect(a).rejects.toMatchObject({ name: 'ProviderError', retryable: true });
    expect((await b).text).toBe(texts['librivox-0880']);
    // The dead worker was replaced at once: the pool is back to 2 workers.
    expect(stt.workerPids).toHaveLength(2);
    expect(stt.workerPids).toContain(pidB);
    expect(stt.workerPids).not.toContain(pidA);
    expect((await stt.transcribe(phoneAudio('librivox-0880'), { signal: signal() })).text).toBe(texts['librivox-0880']);
  });

  it('close() rejects queued and in-flight requests as retryable and stops the workers', async () => {
    const one = make({ workers: 1 });
    await one.warmup();
    const pid = one.workerPid!;
    const p = [one.transcribe(phoneAudio('librivox-0880'), { signal: signal() }), one.transcribe(phoneAudio('librivox-0880'), { signal: signal() })];
    const outcomes = p.map((r) => r.then(() => 'resolved', (e) => e));
    await one.close();
    for (const r of outcomes) expect(await r).toMatchObject({ name: 'ProviderError', retryable: true, message: expect.stringMatching(/closed/) });
    expect(one.workerPids).toEqual([]);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('rejects invalid pool options', () => {
    expect(() => new LocalPocketsphinxStt({ workers: 0 })).toThrow();
    expect(() => new LocalPocketsphinxStt({ requestTimeoutMs: -1 })).toThrow();
  });

  it('a missing python gives a non-retryable ProviderError', async () => {
    const bad = make({ pythonBin: '/nonexistent/python3' });
    const err = await bad.transcribe(phoneAudio('librivox-0880'), { signal: signal() }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/python interpreter not found/);
  });

  it('a python without pocketsphinx gives a clear non-retryable ProviderError', async () => {
    // `python3 -S` skips site-packages, so the pocketsphinx module cannot be imported.
    const noSite = make({ pythonArgs: ['-S'] });
    const err = await noSite.transcribe(phoneAudio('librivox-0880'), { signal: signal() }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/python3-pocketsphinx is not installed/);
    await expect(noSite.warmup()).rejects.toMatchObject({ retryable: false });
  });
});
