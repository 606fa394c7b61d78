import { Alert, Button, Code, CopyButton, Group, Text } from '@mantine/core';

/** A signing secret shown once (after create or rotate), with a copy button; closing it forgets the secret. */
export function SecretOnce({ title, secret, onClose }: { title: string; secret: string; onClose: () => void }) {
  return (
    <Alert color="green" title={title} mb="md" withCloseButton onClose={onClose} closeButtonLabel="Dismiss">
      <Text size="sm" mb="xs">
        Copy the signing secret now: it is shown only once. Verify deliveries with it (Standard Webhooks signatures).
      </Text>
      <Group>
        <Code data-testid="webhook-secret">{secret}</Code>
        <CopyButton value={secret}>
          {({ copied, copy }) => (
            <Button size="xs" variant="default" onClick={copy}>
              {copied ? 'Copied' : 'Copy'}
            </Button>
          )}
        </CopyButton>
      </Group>
    </Alert>
  );
}
