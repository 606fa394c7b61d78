/** One Server-Sent Event as parsed by {@link readSse} (`event` defaults to `message`; comments are skipped). */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Opens `url` as an event stream (fetch, not EventSource) and collects its events as they arrive (WHATWG HTML
 * "Server-sent events" framing: blank-line separated, `event:` / `data:` fields). `waitFor(pred)` resolves with the
 * first event matching `pred` (already received or later); `close()` aborts the request.
 */
export async function readSse(url: string, headers: Record<string, string>): Promise<{ status: number; contentType: string | null; events: SseEvent[]; waitFor(pred: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>; close(): void }> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev: SseEvent = { event: 'message', data: '' };
            let has = false;
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) ev.event = line.slice(7);
              else if (line.startsWith('data: ')) (ev.data += (has ? '\n' : '') + line.slice(6)), (has = true);
            }
            if (has) events.push(ev);
            for (const w of [...waiters]) w();
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    events,
    waitFor: (pred, timeoutMs = 30_000) =>
      new Promise<SseEvent>((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (!hit) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event in ${timeoutMs} ms (got ${events.map((e) => e.event).join(', ')})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => ac.abort(),
  };
}
