/**
 * The one error type providers throw. `retryable` tells callers (retry/fallback wrappers) whether the same
 * request may succeed later (timeouts, 429, 5xx); `status` is the upstream HTTP status when there is one.
 * Messages never contain secrets or audio.
 */
export class ProviderError extends Error {
  readonly provider: string;
  readonly retryable: boolean;
  readonly status?: number;
  constructor(provider: string, message: string, opts: { retryable: boolean; status?: number; cause?: unknown }) {
    super(`${provider}: ${message}`, { cause: opts.cause });
    this.name = 'ProviderError';
    this.provider = provider;
    this.retryable = opts.retryable;
    this.status = opts.status;
  }
}
