import type { AgentProfile } from '../domain/agents';
import { CSAT_STATED_EVENT, CSAT_UNANSWERED_EVENT } from '../domain/csat';
import { phrase } from './call-control-phrases';
import type { Spoken } from './speaker';

/** How long the survey waits for a key after its prompt when the agent sets no `timeoutMs` (ms). */
export const CSAT_SURVEY_TIMEOUT_MS = 8_000;

export { CSAT_STATED_EVENT, CSAT_UNANSWERED_EVENT };

/** Spoken scores the survey accepts besides DTMF (en, es, fr, de), lower-case, accents as spelled. */
const SCORE_WORDS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5,
  uno: 1, dos: 2, tres: 3, cuatro: 4, cinco: 5,
  un: 1, une: 1, deux: 2, trois: 3, quatre: 4, cinq: 5,
  eins: 1, zwei: 2, drei: 3, vier: 4, fünf: 5, fuenf: 5,
};

/**
 * The score 1..5 a caller said ("five", "cinco", "4"), or null when the words hold none or more than one different
 * score (ambiguous). Words are matched whole, case-insensitively.
 */
export function spokenScore(text: string): number | null {
  const found = new Set<number>();
  for (const w of text.toLowerCase().match(/[\p{L}\d]+/gu) ?? []) {
    const n = /^[1-5]$/.test(w) ? Number(w) : SCORE_WORDS[w];
    if (n) found.add(n);
  }
  return found.size === 1 ? [...found][0] : null;
}

/**
 * The survey prompt in `language`: the agent's `csatSurvey.prompt[language]`, else its `prompt[defaultLanguage]`,
 * else `builtin(language)` (the engine's `csatPrompt` line).
 */
export function csatPromptFor(agent: Pick<AgentProfile, 'csatSurvey' | 'defaultLanguage'>, language: string, builtin: (language: string) => string): string {
  const own = agent.csatSurvey?.prompt ?? {};
  const line = (l: string) => (Object.hasOwn(own, l) ? own[l]?.trim() : '');
  return line(language) || line(agent.defaultLanguage) || builtin(language);
}

/** The parts of a call the survey uses. */
export interface CsatSurveyParts {
  agent: Pick<AgentProfile, 'csatSurvey' | 'defaultLanguage'>;
  /** The call's current language (ISO 639-1). */
  language(): string;
  /** Says one line as an agent turn (stored); resolves when it was played (or cut). */
  sayLine(text: string, signal: AbortSignal): Promise<Spoken>;
  /** Appends a call event. */
  event(type: string, payload: Record<string, unknown>): void;
  /** Ms since the call started (session clock). */
  now(): number;
}

type Answer = { score: number; via: 'dtmf' | 'speech' } | { invalid: true };

/**
 * The end-of-call CSAT survey of one call (issue 13 §5). {@link run} says the prompt, then waits up to `timeoutMs`
 * (agent `csatSurvey.timeoutMs`, default {@link CSAT_SURVEY_TIMEOUT_MS}; a `setTimeout`, so Jest's fake timers drive
 * it) for one answer fed by {@link offerDigit} (Twilio Media Streams `dtmf` event) or {@link offerSpeech} (a spoken
 * "five"/"cinco"). A digit 1–5 is recorded as {@link CSAT_STATED_EVENT} and thanked (`csatThanks`); any other key
 * re-prompts once; a second invalid key, the timeout or the call's end record {@link CSAT_UNANSWERED_EVENT} and
 * (unless the call ended) the agent says the goodbye line. Answers given while the prompt plays count.
 */
export class CsatSurvey {
  private pending: ((a: Answer) => void) | null = null;
  private early: Answer | null = null;
  private running = false;

  constructor(private readonly p: CsatSurveyParts) {}

  /** Whether the agent has the survey on. */
  get enabled(): boolean {
    return this.p.agent.csatSurvey?.enabled === true;
  }

  /** Whether the survey is running (its prompt playing or waiting for a key). */
  get active(): boolean {
    return this.running;
  }

  /**
   * A DTMF key while the survey runs: taken as its answer (`1`–`5` a score, anything else invalid).
   * @returns true when the survey took it (the session must not run the key's menu action), false when not running.
   */
  offerDigit(digit: string): boolean {
    if (!this.running) return false;
    this.answer(/^[1-5]$/.test(digit) ? { score: Number(digit), via: 'dtmf' } : { invalid: true });
    return true;
  }

  /** A caller transcript while the survey runs: a spoken score (see {@link spokenScore}) answers it; other words are ignored. */
  offerSpeech(text: string): void {
    const score = this.running ? spokenScore(text) : null;
    if (score !== null) this.answer({ score, via: 'speech' });
  }

  /**
   * Runs the survey (see class doc). Resolves with the stated score, or null (no valid answer, or `signal` aborted:
   * the caller hung up). Never throws.
   */
  async run(signal: AbortSignal): Promise<number | null> {
    this.running = true;
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const answer = await this.ask(signal);
        if (signal.aborted || !answer) return this.unanswered(signal.aborted ? 'ended' : 'timeout', signal);
        if ('score' in answer) {
          this.p.event(CSAT_STATED_EVENT, { score: answer.score, via: answer.via, atMs: Math.round(this.p.now()) });
          await this.p.sayLine(phrase('csatThanks', this.p.language()), signal);
          return answer.score;
        }
      }
      return this.unanswered('invalid', signal);
    } finally {
      this.running = false;
      this.pending = null;
      this.early = null;
    }
  }

  /** Says the prompt and waits for one answer; null on timeout or abort. */
  private async ask(signal: AbortSignal): Promise<Answer | null> {
    this.early = null;
    await this.p.sayLine(csatPromptFor(this.p.agent, this.p.language(), (l) => phrase('csatPrompt', l)), signal);
    if (this.early) return this.early;
    if (signal.aborted) return null;
    const timeoutMs = this.p.agent.csatSurvey?.timeoutMs ?? CSAT_SURVEY_TIMEOUT_MS;
    return new Promise<Answer | null>((resolve) => {
      const done = (a: Answer | null) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.pending = null;
        resolve(a);
      };
      const onAbort = () => done(null);
      const timer = setTimeout(() => done(null), timeoutMs);
      timer.unref?.();
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending = done;
    });
  }

  private answer(a: Answer): void {
    if (this.pending) this.pending(a);
    else this.early ??= a;
  }

  private async unanswered(reason: 'timeout' | 'invalid' | 'ended', signal: AbortSignal): Promise<null> {
    this.p.event(CSAT_UNANSWERED_EVENT, { reason });
    if (!signal.aborted) await this.p.sayLine(phrase('goodbye', this.p.language()), signal);
    return null;
  }
}
