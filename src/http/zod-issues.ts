import type { z } from 'zod';

/** A 400 message from a zod error: `path: message; …`, with `where` standing for the root (`body`, `query`). */
export function zodIssues(e: z.ZodError, where = 'body'): string {
  return e.issues.map((i) => `${i.path.join('.') || where}: ${i.message}`).join('; ');
}
