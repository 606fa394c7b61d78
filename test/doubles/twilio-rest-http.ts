import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TwilioRestDouble } from './twilio-rest-double';

/**
 * Serves `rest` over HTTP on 127.0.0.1 so that other processes can use it as `TWILIO_API_BASE_URL` (PROTOCOLS.md
 * "Twilio REST"): each request's `application/x-www-form-urlencoded` body becomes the double's `data` (a repeated field,
 * e.g. `StatusCallbackEvent`, becomes an array, as twilio-node sends it), the Basic-auth user its `username`, and the
 * double's answer is written back as JSON with its status code.
 * @returns the origin (`http://127.0.0.1:<port>`) and `close()`.
 */
export async function serveTwilioRestDouble(rest: TwilioRestDouble): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const data: Record<string, unknown> = {};
      for (const key of new Set(form.keys())) {
        const all = form.getAll(key);
        data[key] = all.length > 1 ? all : all[0];
      }
      const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const username = auth ? Buffer.from(auth[1], 'base64').toString('utf8').split(':')[0] : undefined;
      rest
        .request({ method: req.method ?? 'GET', uri: `https://api.twilio.com${req.url ?? '/'}`, username, data })
        .then((r) => res.writeHead(r.statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(r.body)))
        .catch((err: Error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 20500, message: err.message, status: 500 })));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
