import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One verified delivery: the event type, its `data.callSid`, and when it was received (`performance.now()`, ms). */
export interface Receipt {
  type: string;
  callSid: string;
  at: number;
}

/**
 * A local webhook receiver for the benchmarks: verifies every request's Standard Webhooks signature
 * (standardwebhooks.com: `webhook-id`, `webhook-timestamp`, `webhook-signature` over the raw body) with `secret`,
 * answers 200 to a verified one (then `onReceipt` runs) and 400 to anything else (counted in `rejected`, never
 * recorded as a receipt). Listens on 127.0.0.1, a free port.
 */
export class WebhookReceiver {
  /** Requests whose signature (or body) did not verify. */
  rejected = 0;
  /** Verified deliveries. */
  received = 0;
  private readonly verifier: Webhook;
  private readonly server: http.Server;

  constructor(
    secret: string,
    private readonly onReceipt: (r: Receipt) => void,
  ) {
    this.verifier = new Webhook(secret);
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const at = performance.now();
        let event: { type?: unknown; data?: { callSid?: unknown } };
        try {
          event = this.verifier.verify(body, req.headers as Record<string, string>) as typeof event;
        } catch {
          this.rejected++;
          res.writeHead(400).end();
          return;
        }
        this.received++;
        res.writeHead(200).end();
        this.onReceipt({ type: String(event.type), callSid: String(event.data?.callSid), at });
      });
    });
  }

  /** Starts listening. @returns the URL to register as a webhook endpoint (`http://127.0.0.1:<port>/hooks`). */
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** Closes the server and its keep-alive connections. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
