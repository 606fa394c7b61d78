import { Text, Title } from '@mantine/core';

/** A page another part of the dashboard fills in (Overview, Live calls, Campaigns): its title and a note. */
export function PlaceholderPage({ title }: { title: string }) {
  return (
    <>
      <Title order={1} size="h2" mb="md">
        {title}
      </Title>
      <Text c="dimmed">This page is not built yet.</Text>
    </>
  );
}
