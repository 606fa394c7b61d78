import { Center, Loader } from '@mantine/core';

/** What shows while a lazy page's chunk or first data loads. */
export function PageLoader() {
  return (
    <Center p="xl">
      <Loader aria-label="Loading" />
    </Center>
  );
}
