import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import type { CallTimers } from './call-timers';
import type { Transcription, Utterance } from './caller-input';
import type { InterruptionController } from './interruption';
import type { CallRecorder } from './recorder';
import type { Speculator } from './speculation';
import type { TurnEvent } from './turn-detector';

/** What {@link routeTurnEvents} hands the VAD/endpointing events to. */
export interface TurnEventParts {
  timers: CallTimers;
  interruptions: InterruptionController;
  speculator: Speculator;
  recorder: CallRecorder;
  log: Logger;
  metrics?: Metrics;
  language(): string;
  /** A closed utterance, with the wall time (session clock) the caller stopped speaking. */
  onUtterance(u: Utterance, speechEndWall: number): void;
}

/**
 * Routes one batch of VAD/endpointing events of a call: speech onset (caller activity; the agent pauses), barge-in
 * (recorded), backchannel (recorded when heard over the agent), pause (speculative transcription), utterance.
 * `wallAt` maps stream time (ms) to the session clock.
 */
export function routeTurnEvents(events: TurnEvent[], wallAt: (audioMs: number) => number, p: TurnEventParts): void {
  for (const ev of events) {
    if (ev.type === 'speech_onset') {
      p.timers.callerActivity();
      if (p.interruptions.speechOnset(ev)) p.log.debug({ atMs: ev.atMs }, 'agent paused at speech onset');
    } else if (ev.type === 'barge_in') {
      if (!p.interruptions.bargeIn(ev)) continue;
      p.log.info({ atMs: ev.atMs }, 'barge-in');
      p.metrics?.bargeIns.inc();
      p.recorder.event('barge_in', { atMs: Math.round(ev.atMs), speechStartMs: Math.round(ev.speechStartMs) });
    } else if (ev.type === 'backchannel') {
      if (p.interruptions.backchannelEnded(ev)) p.recorder.event('backchannel', { atMs: Math.round(ev.atMs), speechMs: Math.round(ev.speechMs) });
    } else if (ev.type === 'pause') {
      p.speculator.onPause(ev, p.language());
    } else if (ev.type === 'utterance') {
      p.onUtterance(ev, wallAt(ev.endMs));
    }
  }
}

/** Stores an "mm-hm" said over the agent (its transcription) as a caller turn: kept in the transcript, never answered. */
export async function keepBackchannel(u: Utterance, transcription: Promise<Transcription>, language: string, recorder: CallRecorder): Promise<void> {
  const t = await transcription;
  if (t.ok && t.transcript.text.trim()) recorder.turn({ role: 'caller', text: t.transcript.text.trim(), language, startMs: u.startMs, endMs: u.endMs, intent: null });
}
