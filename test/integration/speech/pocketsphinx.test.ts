import { wordErrorRate } from '../../../src/eval/wer';
import { ProviderError } from '../../../src/providers/errors';
import { LocalPocketsphinxStt } from '../../../src/providers/stt/local-pocketsphinx';
import { RECORDINGS, phoneAudio, reference } from './fixtures';

const signal = () => new AbortController().signal;

describe('LocalPocketsphinxStt on real speech through the 8 kHz mu-law path', () => {
  const stt = new LocalPocketsphinxStt();
  afterAll(() => stt.close());
  const texts: Record<string, string> = {};

  it('transcribes each recording with WER < 1.0 and reports WER and time', async () => {
    const rows: string[] = [];
    for (const name of RECORDINGS) {
      const audio = phoneAudio(name);
      const t0 = performance.now();
      const t = await stt.transcribe(audio, { signal: signal() });
      const ms = performance.now() - t0;
      texts[name] = t.text;
      const w = wordErrorRate(reference(name), t.text);
      rows.push(`${name}: WER ${(w.wer * 100).toFixed(0)}% (S${w.substitutions} D${w.deletions} I${w.insertions} / ${w.referenceWords}), ${ms.toFixed(0)} ms for ${(audio.samples.length / 8).toFixed(0)} ms of audio`);
      expect(t.text.trim().length).toBeGreaterThan(0);
      expect(t.language).toBeUndefined();
      expect(w.wer).toBeLessThan(1.0);
    }
    // eslint-disable-next-line no-console
    console.log(`pocketsphinx (8 kHz mu-law → 16 kHz):\n${rows.join('\n')}`);
  });

  it('matches concurrent requests to their answers by id (one worker)', async () => {
    const pid = stt.workerPid;
    const names = ['librivox-0890', 'librivox-0880'];
    const results = await Promise.all(names.map((n) => stt.transcribe(phoneAudio(n), { signal: signal() })));
    names.forEach((n, i) => expect(results[i].text).toBe(texts[n]));
    expect(stt.workerPid).toBe(pid);
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

  it('a dying worker rejects pending requests as retryable and restarts on next use', async () => {
    const p = stt.transcribe(phoneAudio('librivox-0870'), { signal: signal() });
    const pid = stt.workerPid!;
    process.kill(pid, 'SIGKILL');
    await expect(p).rejects.toMatchObject({ name: 'ProviderError', retryable: true });
    const again = await stt.transcribe(phoneAudio('librivox-0880'), { signal: signal() });
    expect(again.text).toBe(texts['librivox-0880']);
    expect(stt.workerPid).not.toBe(pid);
  });

  it('a missing python gives a non-retryable ProviderError', async () => {
    const bad = new LocalPocketsphinxStt({ pythonBin: '/nonexistent/python3' });
    const err = await bad.transcribe(phoneAudio('librivox-0880'), { signal: signal() }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/python interpreter not found/);
    await bad.close();
  });

  it('a python without pocketsphinx gives a clear non-retryable ProviderError', async () => {
    // `python3 -S` skips site-packages, so the pocketsphinx module cannot be imported.
    const noSite = new LocalPocketsphinxStt({ pythonArgs: ['-S'] });
    const err = await noSite.transcribe(phoneAudio('librivox-0880'), { signal: signal() }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/python3-pocketsphinx is not installed/);
    await noSite.close();
  });
});
