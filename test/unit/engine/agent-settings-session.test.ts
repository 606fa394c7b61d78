import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { CALL_CONTROL_PHRASES as P } from '../../../src/engine/call-control-phrases';
import { advance, agent, cleanupSessions, endCall, marks, setup, until, utterance } from '../../helpers/session-harness';

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  cleanupSessions();
  jest.useRealTimers();
});

/** The per-agent settings a CallSession honours (greeting per language, barge-in off, time limit, LLM options). */
describe('CallSession with per-agent settings (fake time)', () => {
  const spanish = { ...agent, defaultLanguage: 'es', firstMessages: { es: 'Hola, gracias por llamar.', fr: 'Bonjour.' } };

  it("greets with firstMessages[language] of the call's starting language (the default language), spoken in it", async () => {
    const tts = new FakeTts({ firstByteMs: 5 });
    const { session, mem } = setup({ agent: spanish, tts });
    session.start();
    await until(() => mem.turns.length === 1);
    await endCall(session);
    expect(mem.turns[0]).toMatchObject({ role: 'agent', text: 'Hola, gracias por llamar.', language: 'es', interrupted: false });
    expect(tts.calls[0]).toMatchObject({ text: 'Hola, gracias por llamar.', language: 'es' });
  });

  it('greets with firstMessage when the agent has no greeting for that language', async () => {
    const { session, mem } = setup({ agent: { ...agent, firstMessages: { es: 'Hola.' } } });
    session.start();
    await until(() => mem.turns.length === 1);
    await endCall(session);
    expect(mem.turns[0]).toMatchObject({ text: 'Hello, thanks for calling.', language: 'en' });
  });

  it('recordingNotice on: its line in the call\'s language is spoken before the greeting, in the same opening turn', async () => {
    const tts = new FakeTts({ firstByteMs: 5 });
    const notice = { enabled: true, text: { es: 'Esta llamada se graba.' } };
    const { session, mem } = setup({ agent: { ...spanish, recordingNotice: notice }, tts });
    session.start();
    await until(() => mem.turns.length === 1);
    await endCall(session);
    expect(mem.turns[0]).toMatchObject({ role: 'agent', text: 'Esta llamada se graba. Hola, gracias por llamar.', language: 'es' });
    expect(tts.calls.map((c) => c.text).join(' ')).toContain('Esta llamada se graba.');
  });

  it('recordingNotice without a line of its own uses the built-in one; off (the default) says only the greeting', async () => {
    const on = setup({ agent: { ...agent, recordingNotice: { enabled: true, text: {} } } });
    on.session.start();
    await until(() => on.mem.turns.length === 1);
    await endCall(on.session);
    expect(on.mem.turns[0].text).toBe(`${P.recordingNotice.en} Hello, thanks for calling.`);
    const off = setup({ agent: { ...agent, recordingNotice: { enabled: false, text: { en: 'Recorded.' } } } });
    off.session.start();
    await until(() => off.mem.turns.length === 1);
    await endCall(off.session);
    expect(off.mem.turns[0].text).toBe('Hello, thanks for calling.');
  });

  it('DTMF "repeat" before anything was heard says the greeting of the call\'s language', async () => {
    const { session, mem } = setup({ agent: { ...spanish, dtmfMenu: { '*': 'repeat' } } });
    session.start();
    session.onDtmf('*'); // cuts the greeting before any of it was heard
    await until(() => mem.turns.length === 1);
    await advance(500);
    await endCall(session);
    expect(mem.turns.map((t) => [t.text, t.language])).toEqual([['Hola, gracias por llamar.', 'es']]);
  });

  it('bargeIn false: caller speech over the reply neither pauses nor cuts it; what was said is answered after the reply', async () => {
    const tts = new FakeTts({ msPerChar: 40 });
    const reply = 'One two three. Four five six seven. Eight nine ten eleven twelve.';
    const llm = new FakeLlm({ replies: [reply, 'Sure.'] });
    const stt = new FakeStt({ transcripts: ['Where is my order?', 'Wait, I have another question.'] });
    const { session, out, mem, feed } = setup({ agent: { ...agent, endpointing: { bargeIn: false } }, tts, llm, stt, speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = out.length;
    feed(utterance(0, 1000));
    await until(() => out.slice(before).some((o) => o.kind === 'media'));
    await advance(900);
    feed({ type: 'speech_onset', atMs: 5000, speechStartMs: 4968 });
    await advance(400);
    feed({ type: 'barge_in', atMs: 5400, speechStartMs: 4968 }, utterance(4968, 6000));
    await until(() => mem.turns.length === 5, 20_000);
    await endCall(session);

    expect(out.some((o) => o.kind === 'clear')).toBe(false);
    expect(mem.events.some((e) => e.type === 'barge_in')).toBe(false);
    expect(mem.turns.map((t) => [t.role, t.text, t.interrupted ?? null])).toEqual([
      ['agent', 'Hello, thanks for calling.', false],
      ['caller', 'Where is my order?', null],
      ['agent', reply, false],
      ['caller', 'Wait, I have another question.', null],
      ['agent', 'Sure.', false],
    ]);
    // The whole reply played before the answer to what was said over it, and the LLM saw all of it.
    const m = marks(out);
    expect(m.indexOf('turn-2-seg-3')).toBeLessThan(m.indexOf('turn-3-seg-1'));
    expect(llm.calls[1].messages.map((x) => x.content)).toContain(reply);
  });

  it('bargeIn false: a short "mm-hm" over the agent is kept, not answered, and the agent never paused', async () => {
    const tts = new FakeTts({ msPerChar: 30 });
    const llm = new FakeLlm({ replies: ['Your order shipped yesterday. It should arrive on Friday.'] });
    const stt = new FakeStt({ transcripts: ['Where is my order?', 'mm-hm'] });
    const { session, out, mem, feed } = setup({ agent: { ...agent, endpointing: { bargeIn: false } }, tts, llm, stt, speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 1000));
    await until(() => out.some((o) => o.name === 'turn-2-seg-1'));
    feed({ type: 'speech_onset', atMs: 5000, speechStartMs: 4968 });
    await advance(300);
    feed({ type: 'backchannel', atMs: 5600, speechStartMs: 4968, speechMs: 250 }, utterance(4968, 5250));
    await until(() => mem.turns.some((t) => t.role === 'agent' && t.text.startsWith('Your order')));
    await advance(500);
    await endCall(session);
    expect(out.some((o) => o.kind === 'clear')).toBe(false);
    expect(mem.turns.find((t) => t.text.startsWith('Your order'))).toMatchObject({ interrupted: false });
    expect(mem.turns.filter((t) => t.role === 'caller').map((t) => t.text)).toEqual(['Where is my order?', 'mm-hm']);
    expect(llm.calls).toHaveLength(1);
    expect(mem.events.some((e) => e.type === 'backchannel')).toBe(true);
  });

  it('barge-in stays on by default (the same speech cuts the reply)', async () => {
    const tts = new FakeTts({ msPerChar: 40 });
    const llm = new FakeLlm({ replies: ['One two three. Four five six seven. Eight nine ten eleven twelve.', 'Sure.'] });
    const stt = new FakeStt({ transcripts: ['Where is my order?', 'Wait, stop.'] });
    const { session, out, mem, feed } = setup({ agent: { ...agent, endpointing: { bargeIn: true } }, tts, llm, stt, speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = out.length;
    feed(utterance(0, 1000));
    await until(() => out.slice(before).some((o) => o.kind === 'media'));
    await advance(900);
    feed({ type: 'speech_onset', atMs: 5000, speechStartMs: 4968 });
    await until(() => out.some((o) => o.kind === 'clear'));
    feed({ type: 'barge_in', atMs: 5400, speechStartMs: 4968 }, utterance(4968, 6000));
    await until(() => mem.turns.length === 5, 20_000);
    await endCall(session);
    expect(mem.turns[2]).toMatchObject({ role: 'agent', interrupted: true });
    expect(mem.events.filter((e) => e.type === 'barge_in')).toHaveLength(1);
  });

  it("maxCallDurationMs: the agent's time limit replaces the server's", async () => {
    const { session, mem, actions } = setup({ agent: { ...agent, maxCallDurationMs: 10_000 }, limits: { maxCallDurationMs: 600_000 } });
    session.start();
    await advance(9_900);
    expect(actions).toEqual([]);
    await until(() => actions.length === 1, 5_000);
    await endCall(session);
    expect(actions[0]).toEqual({ type: 'hangup', callSid: 'CAtest' });
    expect(mem.endReasons).toEqual(['max_duration']);
    expect(mem.turns.at(-1)?.text).toBe(P.maxDuration.en);
  });

  it("without the agent's limit the server's applies", async () => {
    const { session, actions } = setup({ agent: { ...agent, maxCallDurationMs: null }, limits: { maxCallDurationMs: 3_000 } });
    session.start();
    await advance(2_900);
    expect(actions).toEqual([]);
    await until(() => actions.length === 1, 5_000);
    await endCall(session);
  });

  it("llm.model and llm.temperature go with every LLM request of the agent's calls; none without them", async () => {
    const withLlm = setup({ agent: { ...agent, llm: { model: 'gpt-4o', temperature: 0.2 } } });
    withLlm.session.start();
    await until(() => withLlm.mem.turns.length === 1);
    withLlm.feed(utterance(1000, 2500));
    await until(() => withLlm.mem.turns.length === 3);
    await endCall(withLlm.session);
    expect(withLlm.llmRequests[0]).toMatchObject({ model: 'gpt-4o', temperature: 0.2 });

    const plain = setup();
    plain.session.start();
    await until(() => plain.mem.turns.length === 1);
    plain.feed(utterance(1000, 2500));
    await until(() => plain.mem.turns.length === 3);
    await endCall(plain.session);
    expect(plain.llmRequests[0]).not.toHaveProperty('model');
    expect(plain.llmRequests[0]).not.toHaveProperty('temperature');
  });
});
