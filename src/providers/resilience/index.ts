/** Timeouts, retries and fallback chains for providers (see each module). */
export * from './errors';
export * from './timeout';
export * from './retry';
export * from './resilient';
export * from './fallback';
export * from './breaker';
