import { Card, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** A bordered card with an h2 title: one section of a page (the page's own title is the h1). */
export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      {children}
    </Card>
  );
}
