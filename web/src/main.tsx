import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import { MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { PageLoader } from './app/PageLoader';
import { routes } from './app/routes';
import { cssVariablesResolver, theme } from './app/theme';
import { ApiFailure } from './api/client';

const queryClient = new QueryClient({
  defaultOptions: {
    // 4xx answers are final (retrying a 403 or 404 only delays the message); network and 5xx retry twice.
    queries: { retry: (n, err) => !(err instanceof ApiFailure && err.status < 500) && n < 2, refetchOnWindowFocus: false },
  },
});

const router = createBrowserRouter(routes);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver}>
      <Notifications />
      <QueryClientProvider client={queryClient}>
        <Suspense fallback={<PageLoader />}>
          <RouterProvider router={router} />
        </Suspense>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
