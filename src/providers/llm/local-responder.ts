import type { ChatRequest, LlmDelta, LlmProvider, Passage } from '../types';
import { LocalHashEmbedder, dot } from '../embeddings/local-hash';
import { STOPWORDS, splitSentences, stem, tokenize } from '../../knowledge/text';
import { INTENT_LEXICON, RESPONDER_STRINGS, type IntentLexicon, type ResponderStrings } from './intents';
import { outboundReply } from './outbound-replies';

export interface LocalResponderOptions {
  /** Embedder for example-phrase similarity (default a new {@link LocalHashEmbedder}). */
  embedder?: LocalHashEmbedder;
  /** Minimum combined score (0..1) to report an intent instead of `unknown` (default 0.45). */
  intentThreshold?: number;
  /** Minimum passage score (retrieval cosine, plus a bonus when the passage mentions the intent) to answer from it (default 0.2). */
  passageThreshold?: number;
  /** Longest answer built from passages, in characters (default 320). */
  maxAnswerChars?: number;
}

/** Result of {@link LocalResponder.classify}. `scores` holds every candidate intent's combined score. */
export interface IntentResult {
  intent: string;
  confidence: number;
  scores: Record<string, number>;
}

interface CompiledLexicon {
  cues: Array<{ tokens: string[]; weight: number }>;
  examples: Float32Array[];
  /** Stemmed content words of the cues, used to rank passages and sentences. */
  terms: Set<string>;
}

/** Edit distance ≤ 1 (one insertion, deletion or substitution), for tokens of 5+ letters only. */
function nearlyEqual(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length < 5 || b.length < 5 || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}

const abortError = (signal: AbortSignal): unknown => signal.reason ?? Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });

/**
 * Offline {@link LlmProvider} (id `local.responder`): intent handling without a language model, for the demo, tests
 * and as a last-resort fallback.
 *
 * 1. Classifies the last user message among `req.intents`: keyword/phrase cues (stemmed, tolerant to one-letter
 *    errors and to words split in two, e.g. "re fund") combined by noisy-OR with the best embedding similarity to
 *    per-intent example phrases ({@link INTENT_LEXICON}); below `intentThreshold` the intent is `unknown`.
 * 2. Streams `{type:'intent'}` first, then the answer as word-sized `{type:'text'}` deltas:
 *    `human_handoff` → a handoff line (+ a `transfer_to_human` tool call when offered); `goodbye` → a closing line
 *    (+ `end_call` when offered); on outbound calls an opt-out, a callback request and a booked callback are handled
 *    first (see {@link outboundReply}); otherwise the 1–3 sentences of the best passage
 *    that overlap most with the question (and the intent's cue words) when the passage is relevant enough;
 *    a known intent without a relevant passage asks the caller for more detail; `unknown` gets a polite fallback
 *    listing what the agent can help with.
 * Replies use {@link RESPONDER_STRINGS}[req.language], falling back to English.
 *
 * Abort: when `signal` aborts, the stream stops and throws `signal.reason` (a DOMException `AbortError` for a plain
 * `abort()`), like fetch-based providers do. Never throws otherwise.
 */
export class LocalResponder implements LlmProvider {
  readonly id = 'local.responder';
  private readonly embedder: LocalHashEmbedder;
  private readonly intentThreshold: number;
  private readonly passageThreshold: number;
  private readonly maxAnswerChars: number;
  private readonly compiled = new Map<string, CompiledLexicon>();

  constructor(o: LocalResponderOptions = {}) {
    this.embedder = o.embedder ?? new LocalHashEmbedder();
    this.intentThreshold = o.intentThreshold ?? 0.45;
    this.passageThreshold = o.passageThreshold ?? 0.2;
    this.maxAnswerChars = o.maxAnswerChars ?? 320;
  }

  /** Streams intent + reply for the last user message of `req` (see class doc). */
  async *chat(req: ChatRequest, signal: AbortSignal): AsyncIterable<LlmDelta> {
    if (signal.aborted) throw abortError(signal);
    const question = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const strings = RESPONDER_STRINGS[req.language] ?? RESPONDER_STRINGS.en;
    const { intent, confidence } = this.classify(question, req.intents, req.language);
    yield { type: 'intent', intent, confidence: Math.round(confidence * 1000) / 1000 };
    const outbound = outboundReply(req, question);
    const reply = outbound ? outbound.text : this.answer(question, intent, req, strings);
    for (const piece of reply.match(/\S+\s*/g) ?? []) {
      await new Promise((resolve) => setImmediate(resolve)); // let an abort (timer, socket event) land between pieces
      if (signal.aborted) throw abortError(signal);
      yield { type: 'text', text: piece };
    }
    // Act like a tool-using LLM: a handoff or a goodbye ends the conversation through the engine's tools.
    const offered = new Set((req.tools ?? []).map((t) => t.name));
    const lastIsToolResult = req.messages.at(-1)?.role === 'tool';
    if (outbound) {
      if (outbound.toolCall) yield { type: 'tool_call', ...outbound.toolCall };
    } else if (!lastIsToolResult && intent === 'human_handoff' && offered.has('transfer_to_human')) {
      yield { type: 'tool_call', id: 'local_transfer', name: 'transfer_to_human', arguments: JSON.stringify({ reason: 'caller asked for a person' }) };
    } else if (!lastIsToolResult && intent === 'goodbye' && offered.has('end_call')) {
      yield { type: 'tool_call', id: 'local_end_call', name: 'end_call', arguments: JSON.stringify({ reason: 'caller said goodbye' }) };
    }
  }

  /**
   * Classifies `text` among `intents` (see class doc). Scores are in 0..1; `intent` is `unknown` when the best
   * score is below the threshold or `text` has no words; `confidence` is then 1 − the best score (how sure it is
   * that nothing matched).
   */
  classify(text: string, intents: string[], language = 'en'): IntentResult {
    const tokens = tokenize(text).map(stem);
    const scores: Record<string, number> = {};
    if (!tokens.length || !intents.length) return { intent: 'unknown', confidence: 0, scores };
    const joined = tokens.slice(0, -1).map((t, i) => t + tokens[i + 1]); // "re fund" → "refund"
    const vector = this.embedder.embedOne(text);
    let best = 'unknown';
    let bestScore = 0;
    for (const name of intents) {
      const lex = this.lexicon(name, language);
      let miss = 1; // noisy-OR over matched cues
      for (const cue of lex.cues) {
        const hit = this.matches(tokens, cue.tokens) || (cue.tokens.length === 1 && joined.some((j) => nearlyEqual(j, cue.tokens[0])));
        if (hit) miss *= 1 - cue.weight;
      }
      const cueScore = 1 - miss;
      const sim = lex.examples.reduce((m, e) => Math.max(m, dot(vector, e)), 0);
      // Unrelated hashed texts have cosine ≈ 0 ± 0.1; map [0.15, 0.75] → [0, 1].
      const simScore = Math.min(1, Math.max(0, (sim - 0.15) / 0.6));
      const score = 1 - (1 - cueScore) * (1 - 0.9 * simScore);
      scores[name] = Math.round(score * 1000) / 1000;
      if (score > bestScore) {
        best = name;
        bestScore = score;
      }
    }
    return bestScore >= this.intentThreshold ? { intent: best, confidence: bestScore, scores } : { intent: 'unknown', confidence: 1 - bestScore, scores };
  }

  /** The full reply text for a classified question. */
  private answer(question: string, intent: string, req: ChatRequest, s: ResponderStrings): string {
    if (!tokenize(question).length) return s.empty;
    if (intent === 'human_handoff') return s.handoff;
    if (intent === 'goodbye') return s.goodbye;
    const fromKnowledge = this.fromPassages(question, intent, req.passages, req.language);
    if (fromKnowledge) return fromKnowledge;
    if (intent !== 'unknown') return s.clarify.replace('{topic}', s.labels[intent] ?? intent.replace(/_/g, ' '));
    const topics = req.intents.filter((i) => i !== 'goodbye').map((i) => s.labels[i] ?? i.replace(/_/g, ' '));
    return topics.length ? s.fallback.replace('{topics}', s.join(topics)) : s.fallbackGeneric;
  }

  /** The most relevant 1–3 sentences of the best relevant passage, in passage order; null when none is relevant. */
  private fromPassages(question: string, intent: string, passages: Passage[], language: string): string | null {
    const terms = new Map<string, number>(); // stemmed term → weight
    const intentTerms = intent === 'unknown' ? new Set<string>() : this.lexicon(intent, language).terms;
    for (const t of intentTerms) terms.set(t, 0.5);
    for (const t of tokenize(question)) if (!STOPWORDS.has(t)) terms.set(stem(t), 1);
    // Passages mentioning several of the intent's cue words get a bonus of up to 0.15 (4+ distinct words).
    const bonus = (text: string) => {
      const hits = new Set(tokenize(text).map(stem).filter((t) => intentTerms.has(t))).size;
      return 0.15 * Math.min(1, hits / 4);
    };

    const ranked = passages
      .map((p) => ({ p, score: p.score + bonus(`${p.title} ${p.text}`) }))
      .filter((r) => r.score >= this.passageThreshold)
      .sort((a, b) => b.score - a.score);
    if (!ranked.length) return null;

    const sentences = splitSentences(ranked[0].p.text).map((text, i) => {
      const seen = new Set(tokenize(text).map(stem));
      let overlap = 0;
      for (const [t, w] of terms) if (seen.has(t)) overlap += w;
      return { text, i, overlap };
    });
    const byScore = [...sentences].sort((a, b) => b.overlap - a.overlap || a.i - b.i);
    const top = byScore[0].overlap;
    const picked = top > 0 ? [byScore[0]] : [sentences[0]];
    let length = picked[0].text.length;
    for (const c of top > 0 ? byScore.slice(1) : sentences.slice(1)) {
      if (picked.length >= 3) break;
      if (top > 0 && c.overlap < 0.5 * top) break;
      if (length + 1 + c.text.length > this.maxAnswerChars) continue;
      picked.push(c);
      length += 1 + c.text.length;
    }
    return picked
      .sort((a, b) => a.i - b.i)
      .map((c) => c.text)
      .join(' ');
  }

  private matches(tokens: string[], cue: string[]): boolean {
    outer: for (let i = 0; i + cue.length <= tokens.length; i++) {
      for (let j = 0; j < cue.length; j++) if (!nearlyEqual(tokens[i + j], cue[j])) continue outer;
      return true;
    }
    return false;
  }

  /** Compiled cues + embedded examples for an intent (cached); unknown intents use their own name as the cue. */
  private lexicon(intent: string, language: string): CompiledLexicon {
    const key = `${language}:${intent}`;
    let c = this.compiled.get(key);
    if (!c) {
      const name = intent.replace(/_/g, ' ');
      const lex: IntentLexicon = INTENT_LEXICON[language]?.[intent] ?? INTENT_LEXICON.en[intent] ?? { cues: [[name, 0.8]], examples: [name] };
      const cues = lex.cues.map(([phrase, weight]) => ({ tokens: tokenize(phrase).map(stem), weight }));
      const terms = new Set(lex.cues.flatMap(([phrase]) => tokenize(phrase).filter((t) => !STOPWORDS.has(t)).map(stem)));
      c = { cues, examples: lex.examples.map((e) => this.embedder.embedOne(e)), terms };
      this.compiled.set(key, c);
    }
    return c;
  }
}
