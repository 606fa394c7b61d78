import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { CALL_CONTROL_PHRASES as P } from '../../../src/engine/call-control-phrases';
import type { CallOutcomes, OutboundOptions } from '../../../src/engine/outbound-call';
import { OUTBOUND_TOOLS } from '../../../src/tools/builtin';
import { LocalResponder } from '../../../src/providers/llm/local-responder';
import type { ChatRequest, LlmDelta } from '../../../src/providers/types';
import { advance, agent, cleanupSessions, endCall, marks, setup, until, utterance, type SetupOptions } from '../../helpers/session-harness';

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  cleanupSessions();
  jest.useRealTimers();
});

/** Outcome writes recorded in memory. */
function outcomeLog() {
  const log = { optOuts: [] as Array<{ utterance: string | null; via: string }>, machines: [] as string[], voicemails: [] as boolean[], callbacks: [] as Array<{ at: Date; said: string }> };
  const outcomes: CallOutcomes = {
    optOut: async (o) => void log.optOuts.push(o),
    machine: async (a) => void log.machines.push(a),
    voicemail: async (played) => void log.voicemails.push(played),
    callback: async (at, said) => (log.callbacks.push({ at, said }), true),
  };
  return { log, outcomes };
}

const outbound = (o: Partial<OutboundOptions> = {}): OutboundOptions => ({ greetingWaitMs: 2_500, voicemailMessage: 'Hi Ana, this is Acme. Please call us back.', answeredBy: null, timeZone: 'America/New_York', ...o });
const outboundCall = (o: Partial<OutboundOptions> = {}, extra: SetupOptions = {}) => {
  const { log, outcomes } = outcomeLog();
  return { ...setup({ outbound: outbound(o), outcomes, ...extra }), log };
};
const agentTexts = (turns: Array<{ role: string; text: string }>) => turns.filter((t) => t.role === 'agent').map((t) => t.text);

describe('outbound call session: waiting for hello', () => {
  it("does not speak first: the greeting answers the callee's hello, which is not sent to the LLM", async () => {
    const stt = new FakeStt({ transcripts: ['Hello?', 'When are you open on Saturday?'] });
    const { session, out, mem, feed, llmRequests } = outboundCall({}, { stt });
    session.start();
    await advance(2_000);
    expect(out).toHaveLength(0); // silence until the callee speaks
    feed(utterance(1_200, 1_700));
    await until(() => mem.turns.length === 2);
    expect(mem.turns.map((t) => [t.role, t.text])).toEqual([
      ['caller', 'Hello?'],
      ['agent', 'Hello, thanks for calling.'],
    ]);
    feed(utterance(5_000, 6_500));
    await until(() => mem.turns.length === 4);
    expect(llmRequests).toHaveLength(1);
    expect(llmRequests[0].messages.filter((m) => m.role === 'user')).toEqual([{ role: 'user', content: 'When are you open on Saturday?' }]);
    await endCall(session);
  });

  it('greets after OUTBOUND_GREETING_WAIT_MS of silence', async () => {
    const { session, out, mem } = outboundCall({ greetingWaitMs: 2_500 });
    session.start();
    await advance(2_490);
    expect(out).toHaveLength(0);
    await until(() => mem.turns.length === 1, 1_000);
    expect(mem.turns[0]).toMatchObject({ role: 'agent', text: 'Hello, thanks for calling.' });
    await endCall(session);
  });

  it('an inbound call (no outbound options) still greets at once', async () => {
    const { session, out } = setup();
    session.start();
    await until(() => out.length > 0, 200);
    await endCall(session);
  });
});

describe('outbound call session: machines', () => {
  it('AMD machine_end_beep: speaks the voicemail to the end (marks back), records played, hangs up', async () => {
    const { session, mem, feed, log, actions, out } = outboundCall();
    session.start();
    feed(utterance(0, 3_000)); // the machine's greeting, transcribed as an ordinary question here
    await until(() => mem.turns.some((t) => t.role === 'agent'));
    session.onAnsweredBy('machine_end_beep');
    await until(() => actions.some((a) => a.type === 'hangup'));
    expect(log.voicemails).toEqual([true]);
    expect(agentTexts(mem.turns).at(-1)).toBe('Hi Ana, this is Acme. Please call us back.');
    expect(mem.endReasons).toEqual(['voicemail']);
    expect(marks(out).length).toBeGreaterThan(0);
    await endCall(session);
  });

  it('voicemail_played is false when the marks never came back (the machine hung up first)', async () => {
    const { session, log, actions } = outboundCall({}, { noMarks: true });
    session.start();
    session.onAnsweredBy('machine_end_silence');
    let done = false;
    const ending = until(() => log.voicemails.length === 1, 30_000).then(() => (done = true));
    await advance(1_000);
    await session.end('stop'); // Twilio's stop before the message's marks returned
    await ending;
    expect(done).toBe(true);
    expect(log.voicemails).toEqual([false]);
    expect(actions.filter((a) => a.type === 'hangup')).toHaveLength(1);
  });

  it('an AMD result stored before the stream started is acted on at start', async () => {
    const { session, log, actions, mem } = outboundCall({ answeredBy: 'machine_end_other' });
    session.start();
    await until(() => actions.some((a) => a.type === 'hangup'));
    expect(log.voicemails).toEqual([true]);
    expect(agentTexts(mem.turns)).toEqual(['Hi Ana, this is Acme. Please call us back.']); // no greeting
    await endCall(session);
  });

  it('fax: hangs up without a message; human/unknown: nothing changes', async () => {
    const a = outboundCall();
    a.session.start();
    a.session.onAnsweredBy('human');
    a.session.onAnsweredBy('unknown');
    await until(() => a.mem.turns.length === 1, 5_000);
    expect(a.actions).toEqual([]);
    a.session.onAnsweredBy('fax');
    await until(() => a.actions.some((x) => x.type === 'hangup'));
    expect(a.log.voicemails).toEqual([]);
    expect(a.mem.endReasons).toEqual(['fax']);
    await endCall(a.session);
  });

  it('no voicemail message: a machine is just hung up on', async () => {
    const { session, log, actions, mem } = outboundCall({ voicemailMessage: null });
    session.start();
    session.onAnsweredBy('machine_end_beep');
    await until(() => actions.some((a) => a.type === 'hangup'));
    expect(log.voicemails).toEqual([]);
    expect(agentTexts(mem.turns)).toEqual([]);
    await endCall(session);
  });

  it("transcript check: a first utterance like a voicemail greeting is a machine (source transcript), no greeting", async () => {
    const stt = new FakeStt({ transcripts: ["Hi, you've reached Sam. Leave a message after the tone."] });
    const { session, feed, log, actions, mem, llmRequests } = outboundCall({}, { stt });
    session.start();
    feed(utterance(200, 4_000));
    await until(() => actions.some((a) => a.type === 'hangup'));
    expect(log.machines).toEqual(['machine_end_other']);
    expect(log.voicemails).toEqual([true]);
    expect(mem.turns.map((t) => t.role)).toEqual(['caller', 'agent']);
    expect(agentTexts(mem.turns)).toEqual(['Hi Ana, this is Acme. Please call us back.']);
    expect(llmRequests).toHaveLength(0);
    await endCall(session);
  });
});

describe('transcript check over a greeting in pieces', () => {
  it('a machine phrase in a later utterance of the first 10 s still counts; after that it does not', async () => {
    const stt = new FakeStt({ transcripts: ['Hi, this is Sam.', 'Please leave a message after the tone.'] });
    const { session, feed, log, actions, mem } = outboundCall({}, { stt });
    session.start();
    feed(utterance(300, 1_200));
    await until(() => mem.turns.length === 2); // greeted: "Hi, this is Sam." sounded human
    feed(utterance(2_000, 4_000));
    await until(() => actions.some((a) => a.type === 'hangup'));
    expect(log.machines).toEqual(['machine_end_other']);
    expect(log.voicemails).toEqual([true]);
    await endCall(session);

    const late = outboundCall({}, { stt: new FakeStt({ transcripts: ['Hello?', 'I got your voicemail, is not available what you said?'] }) });
    late.session.start();
    late.feed(utterance(300, 800));
    await until(() => late.mem.turns.length === 2);
    late.feed(utterance(12_000, 14_000));
    await until(() => late.mem.turns.length === 4);
    expect(late.log.machines).toEqual([]);
    await endCall(late.session);
  });
});

describe('opt-out in the call', () => {
  it('by phrase: confirms in the call language, records once, hangs up', async () => {
    const stt = new FakeStt({ transcripts: ['Hello?', 'Please stop calling me.'] });
    const { session, feed, log, actions, mem } = outboundCall({}, { stt });
    session.start();
    feed(utterance(0, 500));
    await until(() => mem.turns.length === 2);
    feed(utterance(3_000, 4_000));
    await until(() => actions.some((a) => a.type === 'hangup'));
    expect(log.optOuts).toEqual([{ utterance: 'Please stop calling me.', via: 'phrase' }]);
    expect(agentTexts(mem.turns)).toContain(P.optOut.en);
    expect(mem.endReasons).toEqual(['opt_out']);
    await endCall(session);
  });

  it('by phrase, when its transcript only arrives after the callee hung up: still recorded (DNC), nothing said', async () => {
    const stt = new FakeStt({ transcripts: ['Hello?', 'Please stop calling me.'], latencyMs: (i) => (i === 1 ? 1_000 : 0) });
    const { session, feed, log, mem } = outboundCall({}, { stt });
    session.start();
    feed(utterance(0, 500));
    await until(() => mem.turns.length === 2);
    feed(utterance(3_000, 4_000));
    await advance(100);
    await endCall(session); // the callee hangs up while the opt-out is still being transcribed
    expect(log.optOuts).toEqual([{ utterance: 'Please stop calling me.', via: 'phrase' }]);
    expect(agentTexts(mem.turns)).not.toContain(P.optOut.en);
  });

  it("by the agent's own phrase, on an inbound call too", async () => {
    const stt = new FakeStt({ transcripts: ['Unsubscribe me, thanks'] });
    const { log, outcomes } = outcomeLog();
    const { session, feed, actions, mem } = setup({ stt, outcomes, agent: { ...agent, optOutPhrases: ['unsubscribe me'] } });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(3_000, 4_000));
    await until(() => actions.some((a) => a.type === 'hangup'));
    expect(log.optOuts).toEqual([{ utterance: 'Unsubscribe me, thanks', via: 'phrase' }]);
    await endCall(session);
  });

  it('by the DTMF opt_out key', async () => {
    const { session, log, actions, mem } = outboundCall({}, { agent: { ...agent, dtmfMenu: { '9': 'opt_out' } } });
    session.start();
    await until(() => mem.turns.length === 1, 5_000);
    session.onDtmf('9');
    await until(() => actions.some((a) => a.type === 'hangup'));
    expect(log.optOuts).toEqual([{ utterance: null, via: 'dtmf' }]);
    expect(agentTexts(mem.turns).at(-1)).toBe(P.optOut.en);
    await endCall(session);
  });

  it('by the LLM opt_out tool: its reply confirms, then the call ends', async () => {
    const stt = new FakeStt({ transcripts: ['Hello?', 'I never want to hear from you people again.'] });
    const llm = new FakeLlm({ replies: [{ text: "I'm sorry to hear that. We won't call again.", toolCalls: [{ id: 't1', name: 'opt_out', arguments: '{}' }] }, "Understood, you won't hear from us again. Goodbye."] });
    const { session, feed, log, actions, mem } = outboundCall({}, { stt, llm, tools: [...OUTBOUND_TOOLS] });
    session.start();
    feed(utterance(0, 500));
    await until(() => mem.turns.length === 2);
    feed(utterance(3_000, 4_500));
    await until(() => actions.some((a) => a.type === 'hangup'), 20_000);
    expect(log.optOuts).toEqual([{ utterance: 'I never want to hear from you people again.', via: 'tool' }]);
    expect(mem.endReasons).toEqual(['opt_out']);
    await endCall(session);
  });
});

describe('schedule_callback tool', () => {
  it('books the time read in the contact zone and gives the LLM the local time to confirm', async () => {
    jest.setSystemTime(new Date('2026-12-02T14:00:00Z'));
    const stt = new FakeStt({ transcripts: ['Hello?', 'Can you call me back tomorrow at three?'] });
    const requests: Array<{ role: string; content: string }[]> = [];
    const llm = new FakeLlm({
      respond: (req, i) => {
        requests.push(req.messages.map((m) => ({ role: m.role, content: m.content ?? '' })));
        return i === 0 ? { text: '', toolCalls: [{ id: 'c1', name: 'schedule_callback', arguments: JSON.stringify({ when: 'tomorrow at three' }) }] } : 'Great, I will call you Thursday at 3 PM.';
      },
    });
    const { session, feed, log, mem } = outboundCall({ timeZone: 'America/New_York' }, { stt, llm, tools: [...OUTBOUND_TOOLS], tts: new FakeTts({ firstByteMs: 5 }) });
    session.start();
    feed(utterance(0, 500));
    await until(() => mem.turns.length === 2);
    feed(utterance(3_000, 4_500));
    await until(() => agentTexts(mem.turns).includes('Great, I will call you Thursday at 3 PM.'), 20_000);
    expect(log.callbacks).toEqual([{ at: new Date('2026-12-03T20:00:00.000Z'), said: 'tomorrow at three' }]);
    expect(JSON.stringify(requests[1])).toContain('Callback booked for Thursday, December 3 at 3:00 PM');
    await endCall(session);
  });

  it('a day without a time of day is not booked (chrono would say 12:00): the LLM is told to ask what time', async () => {
    jest.setSystemTime(new Date('2026-12-02T14:00:00Z'));
    const stt = new FakeStt({ transcripts: ['Hello?', 'Call me back on Saturday.'] });
    const requests: string[] = [];
    const llm = new FakeLlm({
      respond: (req, i) => {
        requests.push(JSON.stringify(req.messages));
        return i === 0 ? { text: '', toolCalls: [{ id: 'c1', name: 'schedule_callback', arguments: JSON.stringify({ when: 'Saturday' }) }] } : 'Sure, what time on Saturday?';
      },
    });
    const { session, feed, log, mem } = outboundCall({ timeZone: 'America/New_York' }, { stt, llm, tools: [...OUTBOUND_TOOLS], tts: new FakeTts({ firstByteMs: 5 }) });
    session.start();
    feed(utterance(0, 500));
    await until(() => mem.turns.length === 2);
    feed(utterance(3_000, 4_500));
    await until(() => agentTexts(mem.turns).includes('Sure, what time on Saturday?'), 20_000);
    expect(log.callbacks).toEqual([]);
    expect(requests[1]).toContain('error: the callee named a day but no time');
    await endCall(session);
  });
});

describe('offline LocalResponder on outbound calls', () => {
  it('books "call me back tomorrow at three" through schedule_callback and confirms the local time', async () => {
    jest.setSystemTime(new Date('2026-12-02T14:00:00Z'));
    const stt = new FakeStt({ transcripts: ['Hello?', 'Sorry, I am busy, could you call me back tomorrow at three?'] });
    const { session, feed, log, mem } = outboundCall({ timeZone: 'America/New_York' }, { stt, llm: new LocalResponder(), tools: [...OUTBOUND_TOOLS] });
    session.start();
    feed(utterance(0, 500));
    await until(() => mem.turns.length === 2);
    feed(utterance(3_000, 4_500));
    await until(() => log.callbacks.length === 1 && agentTexts(mem.turns).length === 2, 20_000);
    expect(log.callbacks[0].at.toISOString()).toBe('2026-12-03T20:00:00.000Z');
    expect(agentTexts(mem.turns)[1]).toBe("Of course, I'll call you back on Thursday, December 3 at 3:00 PM.");
    await endCall(session);
  });

  it('"call me again on Saturday" … "at three in the afternoon": it asks the time, then books that day at 15:00 local', async () => {
    jest.setSystemTime(new Date('2026-12-02T14:00:00Z')); // Wednesday 09:00 in New York
    const stt = new FakeStt({ transcripts: ['Hello?', 'Please call me again on Saturday,', 'at three in the afternoon.'] });
    const { session, feed, log, mem } = outboundCall({ timeZone: 'America/New_York' }, { stt, llm: new LocalResponder(), tools: [...OUTBOUND_TOOLS] });
    session.start();
    feed(utterance(0, 500));
    await until(() => mem.turns.length === 2);
    feed(utterance(3_000, 4_500));
    await until(() => agentTexts(mem.turns).length === 2, 20_000);
    expect(agentTexts(mem.turns)[1]).toBe('Of course. What time that day suits you best?');
    expect(log.callbacks).toEqual([]);
    feed(utterance(12_000, 13_500));
    await until(() => log.callbacks.length === 1 && agentTexts(mem.turns).length === 3, 20_000);
    expect(log.callbacks[0]).toEqual({ at: new Date('2026-12-05T20:00:00.000Z'), said: 'Please call me again on Saturday, at three in the afternoon.' });
    expect(agentTexts(mem.turns)[2]).toBe("Of course, I'll call you back on Saturday, December 5 at 3:00 PM.");
    await endCall(session);
  });

  it('answers an opt-out phrase with a polite line and the opt_out tool (when offered)', async () => {
    jest.useRealTimers(); // the responder yields through setImmediate
    const chunks: LlmDelta[] = [];
    const req: ChatRequest = { system: 'You call customers.', messages: [{ role: 'user', content: 'No me llamen más, por favor.' }], passages: [], language: 'es', intents: [], tools: [...OUTBOUND_TOOLS] };
    for await (const c of new LocalResponder().chat(req, new AbortController().signal)) chunks.push(c);
    expect(chunks.filter((c) => c.type === 'text').map((c) => (c as { text: string }).text).join('')).toBe('Disculpe las molestias. No le volveremos a llamar. Adiós.');
    expect(chunks.filter((c) => c.type === 'tool_call').map((c) => (c as { name: string }).name)).toEqual(['opt_out']);
    const inbound: LlmDelta[] = [];
    for await (const c of new LocalResponder().chat({ ...req, tools: [] }, new AbortController().signal)) inbound.push(c);
    expect(inbound.some((c) => c.type === 'tool_call')).toBe(false);
  });
});
