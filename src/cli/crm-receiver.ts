import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  verified: boolean;
  payload: any;
}

/** A CRM stand-in on an ephemeral port that verifies Standard Webhooks signatures and records every delivery. */
export async function startCrmReceiver(secret: string, status: (n: number) => number = () => 204) {
  const wh = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = req.headers as Record<string, string>;
    let verified = false;
    let payload: any = null;
    try {
      payload = wh.verify(body, headers);
      verified = true;
    } catch {
      payload = null;
    }
    received.push({ headers, body, verified, payload });
    res.statusCode = status(received.length);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/crm/hook`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}
