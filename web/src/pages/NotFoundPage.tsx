import { Anchor, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

/** Any path the dashboard does not know. */
export default function NotFoundPage() {
  return (
    <>
      <Title order={1} size="h2" mb="md">
        Page not found
      </Title>
      <Text>
        <Anchor component={Link} to="/calls">
          Go to calls
        </Anchor>
      </Text>
    </>
  );
}
