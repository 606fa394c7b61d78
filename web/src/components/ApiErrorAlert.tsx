import { Alert, List } from '@mantine/core';
import { ApiFailure } from '../api/client';

/**
 * An API failure as an alert: its message, and each validation issue of a 400 (`issues[]`: `path` like
 * `body.window.end`, shown without the `body.` prefix). Renders nothing when `error` is null.
 */
export function ApiErrorAlert({ error, title = 'The server refused this' }: { error: unknown; title?: string }) {
  if (!error) return null;
  const issues = error instanceof ApiFailure ? error.issues : [];
  return (
    <Alert color="red" title={title} role="alert">
      {error instanceof Error ? error.message : String(error)}
      {issues.length > 0 && (
        <List size="sm" mt="xs">
          {issues.map((i) => (
            <List.Item key={`${i.path}:${i.message}`}>
              {i.path.replace(/^body\.?/, '') || 'body'}: {i.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
