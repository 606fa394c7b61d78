import { ProviderBreaker, type BreakerDeps, type BreakerOptions } from './resilience/breaker';
import type { Capability } from './resilience/errors';

/** What an agent's provider choice comes to on this server (see {@link agentChain}). */
export type AgentChain<C extends string> =
  /** No choice, or the server's primary: the server's default chain serves the call. */
  | { kind: 'default' }
  /** The agent's choice first, then the server's chain (its primary, then its fallbacks), without the choice. */
  | { kind: 'chain'; chain: C[] }
  /** A choice the server cannot use (its API key is not configured): the server's default chain serves the call. */
  | { kind: 'unusable'; choice: C };

/**
 * The provider chain of one capability for an agent's `choice`: the choice is the call's primary provider and the
 * server's own chain follows it as its fallback — the server's primary (`*_PROVIDER`, what the call would have used
 * without the choice), then the server's fallbacks (`*_FALLBACK`) — without the choice itself. So an agent on a
 * vendor that fails falls back to what every other call uses. No choice, or the server's own primary, is the server's
 * default chain; a choice `usable` rejects (a cloud provider without its API key) is ignored.
 */
export function agentChain<C extends string>(choice: C | undefined, server: { primary: C; fallback: readonly C[] }, usable: (c: C) => boolean): AgentChain<C> {
  if (choice === undefined || choice === server.primary) return { kind: 'default' };
  if (!usable(choice)) return { kind: 'unusable', choice };
  return { kind: 'chain', chain: [choice, server.primary, ...server.fallback.filter((c) => c !== choice)] };
}

/** How a {@link ChainCache} builds the providers of one capability. */
export interface ChainParts<C extends string, P extends { id: string }> {
  capability: Capability;
  /** The provider of a choice, built once per process (options from Config). */
  make(choice: C): P;
  /** Timeout and retries around one provider with its shared breaker; `hasFallback`: another provider follows it in the chain. */
  wrap(provider: P, breaker: ProviderBreaker | undefined, hasFallback: boolean): P;
  /** A fallback provider over a chain of two or more wrapped providers. */
  compose(providers: P[]): P;
  /** The settings of every provider's circuit breaker (absent: none). */
  breaker?: { options: BreakerOptions; deps: BreakerDeps };
}

/**
 * The provider chains of one capability, built on first use and cached: one instance of each provider (a local
 * engine's worker threads are never started twice), ONE circuit breaker per provider shared by every chain it serves
 * in (a vendor that fails is skipped by every call, whatever agent it serves), and one chain per list of choices.
 */
export class ChainCache<C extends string, P extends { id: string }> {
  private readonly providers = new Map<C, P>();
  private readonly breakers = new Map<C, ProviderBreaker>();
  private readonly wrapped = new Map<string, P>();
  private readonly chains = new Map<string, P>();

  constructor(private readonly parts: ChainParts<C, P>) {}

  /** The (cached) provider over `choices` in order: one wrapped provider, or a fallback chain of them. @throws Error when empty. */
  chain(choices: readonly C[]): P {
    if (!choices.length) throw new Error(`${this.parts.capability}: a provider chain needs at least one provider`);
    const key = choices.join('>');
    let chain = this.chains.get(key);
    if (!chain) {
      const wrapped = choices.map((c, i) => this.wrappedOf(c, i < choices.length - 1));
      chain = wrapped.length > 1 ? this.parts.compose(wrapped) : wrapped[0];
      this.chains.set(key, chain);
    }
    return chain;
  }

  /** Every provider instance built so far (unwrapped), e.g. to close them. */
  built(): P[] {
    return [...this.providers.values()];
  }

  private wrappedOf(choice: C, hasFallback: boolean): P {
    const key = `${choice}:${hasFallback}`;
    let w = this.wrapped.get(key);
    if (!w) {
      let p = this.providers.get(choice);
      if (!p) this.providers.set(choice, (p = this.parts.make(choice)));
      let breaker = this.breakers.get(choice);
      const b = this.parts.breaker;
      if (!breaker && b) this.breakers.set(choice, (breaker = new ProviderBreaker(this.parts.capability, p.id, b.options, b.deps)));
      w = this.parts.wrap(p, breaker, hasFallback);
      this.wrapped.set(key, w);
    }
    return w;
  }
}
