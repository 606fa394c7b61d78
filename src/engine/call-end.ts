import type { Logger } from 'pino';
import type { AgentProfile } from '../domain/agents';
import type { TurnInput } from '../domain/calls';
import { safeErrorMessage } from '../domain/redact';
import { correctTranscript } from '../domain/vocabulary';
import { summarizeTranscript } from '../analytics/transcript';
import type { CallTimers } from './call-timers';
import type { CallerInput, PendingUtterance } from './caller-input';
import { withDeadline, type Clock } from './clock';
import type { InboundAudio, TurnDetectorLike } from './inbound-audio';
import type { CallRecorder } from './recorder';
import type { CallUsage } from './call-usage';
import type { TurnEvent } from './turn-detector';
import type { TurnQueue } from './turn-queue';

/** The parts of a call that {@link closeCall} winds down. */
export interface CallParts {
  callSid: string;
  /** Its vocabulary corrects the unanswered caller turns stored at the end, as replies do. */
  agent: Pick<AgentProfile, 'vocabulary'>;
  clock: Clock;
  log: Logger;
  /** Everything below must be done within this many ms of the start of `closeCall`. */
  deadlineMs: number;
  /** Session start on `clock` (the zero of turn times). */
  t0: number;
  language: string;
  timers: CallTimers;
  turns: TurnQueue;
  inbound: InboundAudio;
  turnDetector: TurnDetectorLike;
  input: CallerInput;
  recorder: CallRecorder;
  /** Turn jobs and transcriptions still settling (an aborted reply records what the caller heard of it). */
  inflight: ReadonlySet<Promise<unknown>>;
  onTurnEvents(events: TurnEvent[], wallAt: (streamMs: number) => number): void;
  /** Agent speech held for a caller turn that will now never be answered. */
  held(): TurnInput[];
  onEnded(callSid: string): Promise<void>;
  /** What the call's providers consumed; written before the final state. */
  usage?: CallUsage;
}

/**
 * Ends a call within `deadlineMs`: timers and turns stop; the audio still queued goes through the endpointer and it
 * is flushed (a caller who hangs up mid-sentence is kept); the aborted turn records what was heard; utterances no
 * reply answered are stored as caller turns; then the stream end, the call's provider usage and the final state (dominant language, last
 * intent) are written and the recorder is closed. `onEnded` (post-call jobs) runs only when every row made it —
 * otherwise the sweeper picks the call up once Twilio's status callback ends it. Never throws.
 */
export async function closeCall(reason: string, p: CallParts): Promise<void> {
  const until = p.clock.now() + p.deadlineMs;
  const left = () => Math.max(0, until - p.clock.now());
  p.log.info({ reason }, 'call session ending');
  p.timers.stop();
  p.turns.close(reason);
  await withDeadline(p.inbound.drain(), left());
  try {
    const flushed = await withDeadline(Promise.resolve(p.turnDetector.flush()).then((evs) => p.onTurnEvents(evs, () => p.clock.now())), left());
    if (!flushed) p.log.warn('endpointer flush did not finish before the deadline');
  } catch (err) {
    p.log.warn({ err: safeErrorMessage(err) }, 'endpointer flush failed');
  }
  await withDeadline(Promise.all([...p.inflight]), left());
  await withDeadline(keepUnanswered(p.input.pending, p), left());
  for (const t of p.held()) p.recorder.turn(t);
  p.input.abort(reason);
  await Promise.resolve()
    .then(() => p.turnDetector.close?.())
    .catch((err) => p.log.warn({ err: safeErrorMessage(err) }, 'turn detector close failed'));
  p.recorder.event('stream.ended', { reason, atMs: Math.round(p.clock.now() - p.t0) });
  const usage = p.usage?.records() ?? [];
  if (usage.length) p.recorder.usage(usage);
  const summary = summarizeTranscript(p.recorder.turns.map((t) => ({ ...t, intent: t.intent ?? null, interrupted: !!t.interrupted })));
  p.recorder.finish({ language: summary.language ?? p.language, intent: summary.intent });
  if (!(await p.recorder.close(left()))) return;
  await p.onEnded(p.callSid).catch((err) => p.log.error({ err: safeErrorMessage(err) }, 'post-call enqueue failed (the sweeper retries)'));
}

/** Stores the caller turns no reply answered (the call ended first), near-misses of the agent's vocabulary corrected. */
async function keepUnanswered(items: readonly PendingUtterance[], p: CallParts): Promise<void> {
  for (const u of items) {
    const t = await u.transcription;
    if (!t.ok || !t.transcript.text.trim()) continue;
    const text = p.agent.vocabulary?.length ? correctTranscript(t.transcript.text.trim(), p.agent.vocabulary).text : t.transcript.text.trim();
    p.recorder.turn({ role: 'caller', text, language: p.language, startMs: u.u.startMs, endMs: u.u.endMs, intent: null, sttConfidence: t.transcript.confidence ?? null });
  }
}
