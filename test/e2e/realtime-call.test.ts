import { CALL_CONTROL_PHRASES } from '../../src/engine/call-control-phrases';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Config } from '../../src/config';
import type { AppContext } from '../../src/context';
import { startServer, type RunningServer } from '../../src/server';
import { simulateCall, type CallerTurn } from '../../src/cli/twilio-simulator';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { mulawDecode } from '../../src/audio/mulaw';
import { SileroVad } from '../../src/engine/vad';
import { FakeLlm } from '../../src/providers/llm/fake';
import { FakeTts } from '../../src/providers/tts/fake';
import type { TwilioRestDouble } from '../doubles/twilio-rest-double';
import { scriptedStack } from '../helpers/scripted-stack';
import { closeInProcessServer } from '../helpers/in-process-server';
import { endedCallRow } from '../helpers/db';

const LONG_REPLY =
  'Our refund policy is simple. You can return any item within thirty days of delivery. ' +
  'Refunds go back to the original payment method. They usually arrive within five business days. ' +
  'If the item arrived damaged, we also pay for the return shipping. Is there anything else I can help you with today?';

/** The first `ms` of speech in a recording (from the first window Silero calls speech), as 8 kHz mu-law. */
async function speechExcerpt(mulaw: Uint8Array, ms: number): Promise<Uint8Array> {
  const vad = await SileroVad.load();
  const stream = vad.createStream();
  const frames = [...(await stream.push(mulawDecode(mulaw))), ...(await stream.flush())];
  stream.close();
  const first = frames.find((f) => f.probability >= 0.5);
  if (!first) throw new Error('no speech in the recording');
  const start = Math.round(first.startMs * 8);
  return mulaw.slice(start, start + ms * 8);
}

/**
 * Real-time conversation on the real server: real Silero VAD on real recordings streamed by the Twilio simulator,
 * scripted fake providers (so what is asserted is the platform's behaviour), and the real twilio REST client with
 * an httpClient double for transfers and hangups.
 */
describe('real-time conversation over Media Streams', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let config: Readonly<Config>;
  let rest: TwilioRestDouble;
  let transcripts: string[];
  let replies: string[];
  const recording = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav'));

  beforeAll(async () => {
    ({ db, config, ctx, rest, transcripts, replies } = await scriptedStack({ SILENCE_REPROMPT_MS: '2500', MAX_REPROMPTS: '1' }, 'rt'));
    server = await startServer(config, ctx);
  }, 120_000);

  afterAll(async () => {
    await closeInProcessServer({ server, ctx, db });
  });

  const call = (callerTurns: CallerTurn[], endSignal?: AbortSignal) =>
    simulateCall({
      serverUrl: `http://127.0.0.1:${server.port}`,
      publicBaseUrl: config.publicBaseUrl,
      authToken: config.twilio.authToken,
      accountSid: config.twilio.accountSid,
      callerTurns,
      endSignal,
    });
  const turnsOf = async (callSid: string) => {
    await endedCallRow(db, callSid);
    return db('call_turns').where({ call_sid: callSid }).orderBy('seq');
  };

  it('barge-in with real speech: clear at once, the turn is cut, only the heard text is stored and sent on', async () => {
    transcripts.push('What is your refund policy?', 'Wait, I have another question.');
    replies.push(LONG_REPLY, 'Of course, go ahead.');
    const llmCalls = (ctx.providers.llm as FakeLlm).calls.length;
    const sim = await call([{ audio: recording }, { audio: recording, bargeInAfterMs: 2500 }]);
    expect(sim.clears).toBeGreaterThanOrEqual(1);
    // Onset of real speech → clear: the VAD needs a window or two; the wire adds the rest.
    expect(sim.turns[1].clearLatencyMs).not.toBeNull();
    expect(sim.turns[1].clearLatencyMs!).toBeLessThan(400);
    const turns = await turnsOf(sim.callSid);
    const cut = turns.find((t) => t.role === 'agent' && t.text !== LONG_REPLY && LONG_REPLY.startsWith(t.text.slice(0, 20)));
    expect(cut).toBeDefined();
    expect(cut.interrupted).toBe(true);
    expect(LONG_REPLY.startsWith(cut.text)).toBe(true);
    // ~2.5 s of a reply that lasts > 15 s was heard.
    expect(cut.text.length).toBeLessThan(LONG_REPLY.length / 2);
    const next = (ctx.providers.llm as FakeLlm).calls[llmCalls + 1];
    const history = next.messages.map((m) => m.content).join('\n');
    expect(history).toContain(cut.text);
    expect(history).not.toContain('return shipping');
    expect(turns.filter((t) => t.role === 'caller').map((t) => t.text)).toEqual(['What is your refund policy?', 'Wait, I have another question.']);
    const events = await db('call_events').where({ call_sid: sim.callSid, type: 'barge_in' });
    expect(events).toHaveLength(1);
  }, 90_000);

  it('a short backchannel ("mm-hm"-length real speech) pauses the agent briefly, does not interrupt it, and is kept but not answered', async () => {
    transcripts.push('What is your refund policy?', 'Mm-hm.');
    replies.push(LONG_REPLY);
    const llmCalls = (ctx.providers.llm as FakeLlm).calls.length;
    // 250 ms of real speech: with the VAD's hangover it stays well under BARGE_IN_MIN_SPEECH_MS (400). Whether it also
    // reaches VAD_MIN_SPEECH_MS (250) and so becomes an utterance depends on where Silero's 32 ms windows fall on it,
    // which depends on how much (wall-clock paced) silence came before: 192–320 ms of speech were counted over runs.
    const mmhm = await speechExcerpt(recording, 250);
    const sim = await call([{ audio: recording }, { audio: mmhm, bargeInAfterMs: 2000 }]);
    transcripts.length = 0; // an "Mm-hm." the VAD did not make an utterance was never transcribed
    const turns = await turnsOf(sim.callSid);
    const reply = turns.find((t) => t.role === 'agent' && t.text === LONG_REPLY);
    expect(reply).toBeDefined();
    expect(reply.interrupted).toBe(false);
    // The VAD heard it: the backchannel event carries the speech it counted.
    const backchannels = await db('call_events').where({ call_sid: sim.callSid, type: 'backchannel' });
    expect(backchannels).toHaveLength(1);
    const { speechMs } = backchannels[0].payload;
    expect(speechMs).toBeLessThan(config.engine.bargeInMinSpeechMs);
    // An utterance is kept in the transcript; either way it is never answered (one LLM call: the question).
    const kept = speechMs >= config.engine.vadMinSpeechMs ? ['Mm-hm.'] : [];
    expect(turns.filter((t) => t.role === 'caller').map((t) => t.text)).toEqual(['What is your refund policy?', ...kept]);
    expect((ctx.providers.llm as FakeLlm).calls.length - llmCalls).toBe(1);
    expect(await db('call_events').where({ call_sid: sim.callSid, type: 'barge_in' })).toHaveLength(0);
    // The VAD did hear it: the agent paused (clear) at its onset and resumed once it was over.
    expect(sim.clears).toBeGreaterThanOrEqual(1);
    // The reply's audio still reached the caller in full after the pause (resumed from where it stopped).
    const replyBytes = (ctx.providers.tts as FakeTts).bytesFor(LONG_REPLY);
    expect(sim.agentAudio.length).toBeGreaterThan(replyBytes * 0.95);
  }, 90_000);

  it('DTMF 0 transfers: handoff line, then calls(sid).update with <Dial> to the handoff number on the wire', async () => {
    const ended = new AbortController();
    rest.onUpdate = () => ended.abort();
    const before = rest.requests.length;
    const sim = await call([{ audio: new Uint8Array(0), dtmf: '0' }], ended.signal);
    const wire = rest.requests.slice(before);
    expect(wire).toHaveLength(1);
    expect(wire[0].method).toBe('POST');
    expect(wire[0].uri).toBe(`https://api.twilio.com/2010-04-01/Accounts/${config.twilio.accountSid}/Calls/${sim.callSid}.json`);
    // The human hears the stored summary first: <Number url> points at our signed whisper route, with only the CallSid.
    expect(wire[0].data.Twiml).toContain(
      `<Response><Dial answerOnBridge="true" timeout="30"><Number url="${config.publicBaseUrl}/twilio/whisper?callSid=${sim.callSid}" method="POST">+15005550006</Number></Dial></Response>`,
    );
    const row = await endedCallRow(db, sim.callSid);
    expect(row.transfer).toMatchObject({ target: '+15005550006', reason: 'dtmf', summary: 'Transferred call. Reason: dtmf. The caller has not said anything yet.' });
    expect(wire[0].data.Twiml).not.toContain(row.transfer.summary);
    expect(row.end_reason).toBe('transfer');
    const turns = await turnsOf(sim.callSid);
    expect(turns.at(-1).text).toBe(CALL_CONTROL_PHRASES.handoff.en);
  }, 60_000);

  it('silence: the agent reprompts, then says goodbye and hangs up through the REST API', async () => {
    const ended = new AbortController();
    rest.onUpdate = () => ended.abort();
    const before = rest.requests.length;
    const sim = await call([], ended.signal);
    const wire = rest.requests.slice(before);
    expect(wire.map((r) => r.data)).toEqual([{ Status: 'completed' }]);
    const turns = await turnsOf(sim.callSid);
    expect(turns.map((t) => t.text)).toEqual([
      expect.stringMatching(/thanks for calling/i),
      CALL_CONTROL_PHRASES.reprompt.en,
      CALL_CONTROL_PHRASES.goodbyeSilence.en,
    ]);
    const row = await endedCallRow(db, sim.callSid);
    expect(row.end_reason).toBe('silence');
  }, 60_000);
});
