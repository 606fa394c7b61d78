import { describeCallbackTime, readCallbackTime } from '../domain/callback-time';
import type { OptOutVia } from './outbound-call';
import type { CallSessionDeps } from './session-deps';
import type { ToolRunnerDeps } from './tool-runner';

/**
 * The `opt_out` and `schedule_callback` tools of a call with an outcome store (absent: neither, the tool runner
 * answers "not available"). `schedule_callback { when }` reads the callee's words with {@link readCallbackTime} in
 * the contact's zone (`outbound.timeZone`, else UTC) relative to the wall clock (`Date.now()`), books it, and tells
 * the LLM the local time to confirm aloud; a time it cannot read, a day without a time of day (chrono would book
 * 12:00; the LLM is told to ask the time), or a booking that failed, is an `error:` the LLM can act on. Booking failures are also reported to `onError`.
 */
export function outcomeTools(
  d: Pick<CallSessionDeps, 'outcomes' | 'outbound'>,
  optOut: (via: OptOutVia, utterance: string | null) => void,
  onError: (err: unknown) => void,
): Pick<ToolRunnerDeps, 'optOut' | 'scheduleCallback'> {
  const outcomes = d.outcomes;
  if (!outcomes) return {};
  return {
    optOut: () => optOut('tool', null),
    scheduleCallback: async (when, language) => {
      const zone = d.outbound?.timeZone ?? 'UTC';
      const read = readCallbackTime(when, { now: new Date(Date.now()), timeZone: zone, language });
      if (!read) return 'error: that day and time could not be understood; ask the callee when to call back (a day and a time).';
      if (!read.timeOfDay) return 'error: the callee named a day but no time; ask what time that day suits them, then call schedule_callback with the day and the time.';
      const at = read.at;
      const said = describeCallbackTime(at, zone, language);
      const booked = await outcomes.callback(at, when).catch((err: unknown) => (onError(err), false));
      return booked
        ? `Callback booked for ${said} (the callee's local time; calls are only placed inside the campaign's calling hours, so it may move to the next allowed time). Confirm it to the callee in one sentence.`
        : `error: the callback for ${said} could not be booked; tell the callee someone will call back later.`;
    },
  };
}
