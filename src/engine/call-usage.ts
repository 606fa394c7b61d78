import type { UsageKind, UsageRecord, UsageSink } from '../domain/usage';
import type { LlmProvider, SttProvider, TtsProvider } from '../providers/types';

/**
 * What one call consumed, per provider and kind, summed in memory as the providers report it (a Map update per
 * utterance, sentence or LLM round) and written once, with the call's rows, when the call ends.
 */
export class CallUsage {
  private readonly totals = new Map<string, UsageRecord>();

  /** The sink handed to the providers (bound: pass it around freely). */
  readonly sink: UsageSink = (u) => {
    if (!(u.quantity > 0)) return;
    const key = `${u.provider}\u0000${u.kind}`;
    const t = this.totals.get(key);
    if (t) t.quantity += u.quantity;
    else this.totals.set(key, { ...u });
  };

  /** The totals so far, one record per (provider, kind), in the order first reported. */
  records(): UsageRecord[] {
    return [...this.totals.values()].map((r) => ({ ...r }));
  }

  /** The total of one kind across providers (e.g. all `stt_audio` seconds). */
  total(kind: UsageKind): number {
    return this.records().reduce((n, r) => n + (r.kind === kind ? r.quantity : 0), 0);
  }
}

/**
 * The call's providers with its usage sink attached to every request (the `usage` option): the metering layer
 * under each chain then reports what the provider that served consumed (see providers/metered.ts). `id`s unchanged.
 */
export function withUsage(p: { stt: SttProvider; tts: TtsProvider; llm: LlmProvider }, sink: UsageSink): { stt: SttProvider; tts: TtsProvider; llm: LlmProvider } {
  const { stt, tts, llm } = p;
  return {
    stt: { id: stt.id, transcribe: (audio, o) => stt.transcribe(audio, { ...o, usage: sink }) },
    tts: { id: tts.id, synthesize: (text, o) => tts.synthesize(text, { ...o, usage: sink }) },
    llm: { id: llm.id, chat: (req, signal) => llm.chat({ ...req, usage: sink }, signal) },
  };
}
