import pino, { type Logger } from 'pino';

/**
 * Root pino logger. Secrets are redacted by path; audio and full transcripts are never logged at info level
 * (call code logs lengths and ids, not content).
 */
export function createLogger(level: string, name = 'callcenter'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['*.authToken', '*.apiKey', '*.secret', '*.webhookSecret', 'req.headers.authorization', 'req.headers["x-twilio-signature"]', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
