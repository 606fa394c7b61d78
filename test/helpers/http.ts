import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Serves `handler` (an express app) on an ephemeral loopback port; returns its base URL and a close function. */
export async function listen(handler: http.RequestListener): Promise<{ base: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
