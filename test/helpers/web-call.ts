import WebSocket from 'ws';

/** Outcome of opening a web test call socket: open (with the server's first `call` event) or refused with a status. */
export type WebCallOpen = { ok: true; ws: WebSocket; callSid: string; events: any[] } | { ok: false; status: number; body: string };

/**
 * Opens `ws://…/api/web-call?agentId=…` with the given headers (Cookie, Origin, Authorization) and waits for the
 * server's `{ event: 'call', callSid }`; every JSON message received is also collected in `events` (transcripts…).
 * A refused upgrade resolves with its HTTP status and body.
 */
export function openWebCall(base: string, agentId: string, headers: Record<string, string>): Promise<WebCallOpen> {
  const url = `${base.replace(/^http/, 'ws')}/api/web-call?agentId=${encodeURIComponent(agentId)}`;
  return new Promise<WebCallOpen>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const events: any[] = [];
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      events.push(msg);
      if (msg.event === 'call') resolve({ ok: true, ws, callSid: msg.callSid, events });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}
