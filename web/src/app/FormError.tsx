import { Alert } from '@mantine/core';
import { fieldError } from '../api/client';

/**
 * A failed request's message when no field shows it: nothing while `error` is null or its 400 issues sit on the
 * form's fields (paths under `under`, default `body`), else a red alert with the API's message.
 */
export function FormError({ error, under = 'body' }: { error: Error | null; under?: string }) {
  if (!error || fieldError(error, under)) return null;
  return (
    <Alert color="red" mb="md" role="alert">
      {error.message}
    </Alert>
  );
}
