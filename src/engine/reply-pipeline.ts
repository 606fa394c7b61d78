import type { AgentProfile } from '../domain/agents';
import type { CallAction, TurnInput, TurnTimings } from '../domain/calls';
import { correctTranscript } from '../domain/vocabulary';
import type { ChatMessage, ToolCall, ToolSpec } from '../providers/types';
import { AsyncQueue } from './async-queue';
import { phrase } from './call-control-phrases';
import type { PendingUtterance, Transcription } from './caller-input';
import { raceAbort, type Clock } from './clock';
import type { Conversation, ToolResult } from './conversation';
import { decideLanguage } from './language';
import { APOLOGY, TRANSFER_WORD } from './phrases';
import type { CachedPhrases, Speaker, Spoken } from './speaker';

/** What a reply needs (one per call). */
export interface ReplyDeps {
  agent: AgentProfile;
  conversation: Conversation;
  speaker: Speaker;
  clock: Clock;
  /** End of caller speech → cached filler when the reply has no audio yet (ms); 0 disables. */
  deadAirMs: number;
  /** See CallLimits.minSttConfidence (0 disables). */
  minSttConfidence: number;
  tools?: ToolSpec[];
  /** Runs one tool call in the turn's language; never throws. */
  runTool?: (call: ToolCall, signal: AbortSignal, language: string) => Promise<ToolResult>;
  /** Pre-rendered audio per language: the outage apology, the dead-air filler, "sorry, I didn't catch that". */
  cached: { apology?: CachedPhrases; filler?: CachedPhrases; didNotCatch?: CachedPhrases; notUnderstood?: CachedPhrases };
  /** Intent classifier for LLMs that report none. */
  classifyIntent?: (text: string, intents: string[], language: string) => { intent: string; confidence: number };
}

/** The caller input a reply answers, and the call's state it starts from. */
export interface ReplyInput {
  items: readonly PendingUtterance[];
  /** The call's language so far (ISO 639-1). */
  language: string;
  /** The last turn played the outage apology, which offered a person. */
  offeredTransfer: boolean;
}

/** How a reply went: `answered` (LLM reply or apology), `transfer_request` (asked for a person after the outage apology), `not_understood` (no transcript: STT failed), `unintelligible` (transcripts below the confidence floor: flagged, a person offered), `empty` (nothing was said). */
export type ReplyKind = 'answered' | 'transfer_request' | 'not_understood' | 'unintelligible' | 'empty';

/** Everything a reply produced; the session records it (the pipeline itself writes nothing). */
export interface ReplyOutcome {
  kind: ReplyKind;
  /** The caller turn answered (the utterances merged), as also handed to `onCommit`; null when nothing was understood. */
  caller: TurnInput | null;
  /** What the caller heard of the agent in this turn (reply, apology, filler), or null. */
  heard: Spoken | null;
  timings: TurnTimings;
  action: CallAction | null;
  /** The reply's provider failure after fallbacks, or null. */
  error: unknown;
  /** Failed transcriptions of the answered utterances. */
  sttErrors: unknown[];
  tools: Array<{ name: string; ok: boolean }>;
  /** The call's language after this turn. */
  language: string;
  offeredTransfer: boolean;
  /** The reply started speaking, so its caller input is answered; false when it was cut before that. */
  committed: boolean;
  /** This turn's LLM messages (see Conversation.commit). */
  draft: ChatMessage[];
}

/**
 * One agent reply to the caller's pending utterances: transcripts (already under way; near-misses of the agent's
 * `vocabulary` corrected) → language → the LLM's sentences → TTS → playout, with the dead-air filler, the cached
 * outage apology and the cached "didn't catch that".
 * It returns what happened instead of changing the session; the single exception is `onCommit(callerTurn)`, called
 * once when the reply is about to be heard (its first synthesized audio, the apology, or the transfer request),
 * which is when its utterances count as answered. A reply aborted before that leaves them pending, so they are
 * answered together with what the caller says next.
 */
export class ReplyPipeline {
  constructor(private readonly d: ReplyDeps) {}

  /** `onCommit(callerTurn, replyLanguage)`: see the class doc. */
  async run(input: ReplyInput, signal: AbortSignal, onCommit: (caller: TurnInput | null, language: string) => void): Promise<ReplyOutcome> {
    const { d } = this;
    const last = input.items[input.items.length - 1];
    const out: ReplyOutcome = {
      kind: 'empty', caller: null, heard: null, timings: { endpointingMs: Math.round(last.u.endpointedAtMs - last.u.endMs) }, action: null, error: null,
      sttErrors: [], tools: [], language: input.language, offeredTransfer: false, committed: false, draft: [],
    };
    const commit = (caller: TurnInput | null) => {
      if (out.committed || signal.aborted) return;
      out.committed = true;
      out.caller = caller;
      onCommit(caller, out.language);
    };
    const backlog = new ReplyBacklog();
    const watch = d.speaker.watch(d.speaker.begin(), signal, backlog.text);
    const filler = d.cached.filler;
    const guard = filler && d.deadAirMs > 0 ? d.speaker.armFiller(filler, input.language, last.speechEndWall + d.deadAirMs, signal) : null;
    try {
      const results = await raceAbort(Promise.all(input.items.map((p) => p.transcription)), signal);
      out.timings.sttMs = results[results.length - 1].sttMs;
      out.sttErrors = results.filter((r): r is Extract<Transcription, { ok: false }> => !r.ok).map((r) => r.error);
      const heard = results.flatMap((r, i) => (r.ok && r.transcript.text.trim() ? [{ r: r.transcript, p: input.items[i] }] : []));
      if (!heard.length) {
        if (guard?.playing) await guard.playing;
        commit(null);
        if (out.sttErrors.length && d.cached.didNotCatch && !signal.aborted) {
          guard?.cancel();
          out.heard = await d.speaker.playCached(d.cached.didNotCatch, input.language, 'not-understood', signal);
        }
        out.kind = out.sttErrors.length ? 'not_understood' : 'empty';
        return out;
      }
      const texts = heard.map((h) => this.corrected(h.r.text.trim()));
      const corrections = texts.reduce((n, t) => n + t.corrections.length, 0);
      if (corrections) out.timings.vocabularyCorrections = corrections;
      const text = texts.map((t) => t.text).join(' ');
      const confidences = heard.map((h) => h.r.confidence).filter((c): c is number => typeof c === 'number');
      const lang = decideLanguage({ text, sttLanguage: heard[heard.length - 1].r.language, prior: input.language, supported: d.agent.languages });
      out.language = lang.replyLanguage;
      const caller: TurnInput = {
        role: 'caller', text, language: lang.language, startMs: heard[0].p.u.startMs, endMs: heard[heard.length - 1].p.u.endMs,
        sttConfidence: confidences.length ? Math.min(...confidences) : null,
      };
      if (d.minSttConfidence > 0 && confidences.length === heard.length && confidences.every((c) => c < d.minSttConfidence)) {
        // Not understood (another language, or unintelligible): kept, flagged, not guessed at by the LLM; the agent
        // says so in its default language and offers a person (asked for next, the transfer follows).
        caller.understood = false;
        caller.language = null;
        out.language = input.language; // the call's language does not follow words that were not understood
        if (guard?.playing) await guard.playing;
        commit(caller);
        guard?.cancel();
        out.language = d.agent.defaultLanguage;
        if (d.cached.notUnderstood && !signal.aborted) out.heard = await d.speaker.playCached(d.cached.notUnderstood, d.agent.defaultLanguage, 'not-understood', signal);
        out.offeredTransfer = true;
        out.kind = 'unintelligible';
        return out;
      }
      if (input.offeredTransfer && asksForPerson(text, lang.replyLanguage)) {
        // The outage apology offered a person and the caller asked for one: no provider needed for this.
        caller.intent = 'human_handoff';
        if (guard?.playing) await guard.playing;
        commit(caller);
        out.kind = 'transfer_request';
        out.action = { type: 'transfer', reason: 'caller asked for a person after a provider outage' };
        return out;
      }
      await this.answer(text, caller, lang, input, out, signal, guard, commit, backlog);
      out.kind = 'answered';
      return out;
    } catch (err) {
      if (!signal.aborted) throw err;
      return out;
    } finally {
      guard?.cancel();
      watch.dispose();
      if (signal.aborted) out.heard = watch.heard();
    }
  }

  /** A transcript with near-misses of the agent's vocabulary corrected; as it is when the agent has no vocabulary. */
  private corrected(text: string): ReturnType<typeof correctTranscript> {
    const vocabulary = this.d.agent.vocabulary;
    return vocabulary?.length ? correctTranscript(text, vocabulary) : { text, corrections: [] };
  }

  /** The LLM reply (or the apology when it fails before any audio), spoken sentence by sentence. */
  private async answer(
    text: string, caller: TurnInput, lang: ReturnType<typeof decideLanguage>, input: ReplyInput, out: ReplyOutcome, signal: AbortSignal,
    guard: ReturnType<Speaker['armFiller']> | null, commit: (c: TurnInput | null) => void, backlog: ReplyBacklog,
  ): Promise<void> {
    const { d } = this;
    const llmStart = d.clock.now();
    let intent: string | null = null;
    let failure: unknown = null;
    const segments = backlog.segments;
    const closeSegments = () => segments.close();
    signal.addEventListener('abort', closeSegments, { once: true });
    // A caller speaking a language the agent does not speak is told so, in the agent's default language.
    if (lang.language !== lang.replyLanguage && lang.source !== 'prior') segments.push(phrase('unsupportedLanguage', lang.replyLanguage));
    const runTool = d.runTool;
    const tools = {
      tools: d.tools,
      runTool: d.tools?.length && runTool ? (call: ToolCall, s: AbortSignal) => runTool(call, s, lang.replyLanguage) : undefined,
      onWriting: (w: string) => (backlog.writing = w),
    };
    const producer = (async () => {
      try {
        for await (const ev of d.conversation.reply(text, lang.replyLanguage, signal, out.draft, tools)) {
          if (ev.type === 'intent') intent = ev.intent;
          else if (ev.type === 'first_token') out.timings.llmFirstTokenMs = Math.round(ev.at - llmStart);
          else if (ev.type === 'segment') segments.push(ev.text);
          else if (ev.type === 'action') out.action = ev.action;
          else out.tools.push({ name: ev.name, ok: ev.ok });
        }
      } catch (err) {
        if (!signal.aborted) failure = err;
      } finally {
        segments.close();
        signal.removeEventListener('abort', closeSegments);
      }
    })();
    const last = input.items[input.items.length - 1];
    const withIntent = () => ({ ...caller, intent: intent ?? d.classifyIntent?.(text, d.agent.intents, lang.replyLanguage).intent ?? null });
    let spoken = await d.speaker.say(segments, lang.replyLanguage, signal, {
      timings: out.timings, speechEndWall: last.speechEndWall, decidedWall: last.decidedWall, guard, onFirstAudio: () => commit(withIntent()), unsent: backlog.text,
    });
    await producer;
    failure ??= spoken.error;
    if (failure && !spoken.synthesized && !signal.aborted) {
      // The reply failed before any of its audio (a dead-air filler may have played): apologise with cached audio
      // (no provider needed) and offer a person.
      guard?.cancel();
      commit(withIntent());
      spoken = d.cached.apology
        ? await d.speaker.playCached(d.cached.apology, lang.replyLanguage, 'apology', signal)
        : await d.speaker.say([APOLOGY[lang.replyLanguage] ?? APOLOGY.en], lang.replyLanguage, signal);
      out.offeredTransfer = !!d.cached.apology;
    }
    if (!out.committed && !signal.aborted) commit(withIntent()); // a reply with no audio at all (empty LLM answer)
    out.error = failure;
    out.heard = spoken;
  }
}

/**
 * The reply's text that exists but is not on the playout yet, in speaking order: segments queued for the speaker, then
 * the sentence the LLM is still writing. Read at a cut (Speaker.watch), it completes the reply's unheard text.
 */
class ReplyBacklog {
  readonly segments = new AsyncQueue<string>();
  writing = '';
  readonly text = (): string[] => [...this.segments.pending(), this.writing];
}

/** Whether `text` asks for a person: the transfer word the apology offered, in `language` or English. */
function asksForPerson(text: string, language: string): boolean {
  const words = new Set([TRANSFER_WORD[language], TRANSFER_WORD.en].filter(Boolean).map((w) => w.toLowerCase()));
  const lower = text.toLowerCase();
  return [...words].some((w) => new RegExp(`(^|[^\\p{L}])${w}([^\\p{L}]|$)`, 'u').test(lower));
}
