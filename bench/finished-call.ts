import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { CallsRepo } from '../src/db/calls';
import type { TurnInput } from '../src/domain/calls';
import type { UsageRecord } from '../src/domain/usage';
import { CallRecorder } from '../src/engine/recorder';

/** Agent id of the benchmark's agent (inserted by the caller with AgentsRepo.upsert). */
export const BENCH_AGENT_ID = 'bench-webhooks-agent';

/** The conversation of every simulated call: an opening-hours question, an answer, a follow-up and goodbyes (ms since stream start). */
const TURNS: readonly TurnInput[] = [
  { role: 'agent', text: 'Hello, thanks for calling Acme Dental. How can I help you today?', language: 'en', startMs: 400, endMs: 3_900 },
  { role: 'caller', text: 'Hi, what time do you open on Saturday?', language: 'en', startMs: 4_800, endMs: 7_100, intent: 'opening_hours', sttConfidence: 0.93 },
  {
    role: 'agent',
    text: 'We open at nine on Saturdays and close at one in the afternoon.',
    language: 'en',
    startMs: 7_900,
    endMs: 11_600,
    timings: { endpointingMs: 520, sttMs: 160, llmFirstTokenMs: 310, ttsFirstByteMs: 80, replyLatencyMs: 790, turnOverheadMs: 560 },
  },
  { role: 'caller', text: 'Okay, and do I need an appointment for a cleaning?', language: 'en', startMs: 12_500, endMs: 15_300, intent: 'appointment', sttConfidence: 0.9 },
  {
    role: 'agent',
    text: 'Yes, cleanings are by appointment. I can transfer you to the front desk to book one, or you can book online.',
    language: 'en',
    startMs: 16_100,
    endMs: 22_400,
    timings: { endpointingMs: 540, sttMs: 150, llmFirstTokenMs: 330, ttsFirstByteMs: 75, replyLatencyMs: 820, turnOverheadMs: 580 },
  },
  { role: 'caller', text: "I'll book online. Thank you, goodbye!", language: 'en', startMs: 23_300, endMs: 25_600, intent: 'goodbye', sttConfidence: 0.95 },
  {
    role: 'agent',
    text: 'You are welcome. Have a great day, goodbye!',
    language: 'en',
    startMs: 26_300,
    endMs: 28_700,
    timings: { endpointingMs: 500, sttMs: 140, llmFirstTokenMs: 290, ttsFirstByteMs: 70, replyLatencyMs: 760, turnOverheadMs: 530 },
  },
];

/** Call length (s) from the voice webhook to hang-up: the last turn's end plus the ring and the goodbye. */
export const BENCH_CALL_DURATION_S = 31;

const USAGE: readonly UsageRecord[] = [
  { provider: 'fake', kind: 'stt_audio', quantity: 7.4 },
  { provider: 'fake', kind: 'llm_prompt', quantity: 2_150 },
  { provider: 'fake', kind: 'llm_completion', quantity: 64 },
  { provider: 'fake', kind: 'tts_characters', quantity: 219 },
];

/**
 * Writes one finished inbound call the way the platform does, up to (not including) the call-end signal:
 * the voice webhook's row (`CallsRepo.create`, status `ringing`), the media stream's attach (`in-progress`, writes
 * `call.started`), then — through the engine's own single writer {@link CallRecorder}, in the order `closeCall`
 * (src/engine/call-end.ts) writes them — 7 caller/agent turns (agent turns with stage timings in ms), the
 * `stream.ended` event, provider usage and the final state (`finish`: language, intent, `ended_at`, `completed`,
 * `call.ended`), and Twilio's terminal status callback (`applyStatus('completed')` with `CallDuration`
 * {@link BENCH_CALL_DURATION_S} s, which records the telephony minutes).
 *
 * The one write no repo offers: `started_at` is moved {@link BENCH_CALL_DURATION_S} s into the past (raw SQL on `db`),
 * so the stored call has a real duration (CSAT and `call.completed` read it) without the bench waiting 31 s per call.
 * @throws Error when the recorder could not write every row within 5 s, or DB errors from the repos.
 */
export async function writeFinishedCall(db: Knex, calls: CallsRepo, log: Logger, o: { callSid: string; from: string; to: string }): Promise<void> {
  const { callSid } = o;
  await calls.create({ callSid, accountSid: 'ACbench0000000000000000000000000000', agentId: BENCH_AGENT_ID, direction: 'inbound', from: o.from, to: o.to, status: 'ringing' });
  await db('calls')
    .where({ call_sid: callSid })
    .update({ started_at: db.raw(`now() - (? * interval '1 second')`, [BENCH_CALL_DURATION_S]) });
  if (!(await calls.attachStream(callSid, `MZ${callSid.slice(2)}`))) throw new Error(`stream of ${callSid} not attached`);
  const recorder = new CallRecorder(calls, callSid, log);
  for (const t of TURNS) recorder.turn(t);
  recorder.event('stream.ended', { reason: 'stop', atMs: 29_300 });
  recorder.usage([...USAGE]);
  recorder.finish({ language: 'en', intent: 'goodbye' });
  if (!(await recorder.close(5_000))) throw new Error(`rows of ${callSid} not written within 5 s`);
  await calls.applyStatus(callSid, 'completed', 3, { CallSid: callSid, CallStatus: 'completed', CallDuration: String(BENCH_CALL_DURATION_S), SequenceNumber: '3' });
}
