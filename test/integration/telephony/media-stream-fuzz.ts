import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import pino from 'pino';
import fc from 'fast-check';
import { attachMediaStreamServer, type StreamHandler } from '../../../src/telephony/media-stream-server';
import { signTwilioRequest } from '../../../src/telephony/signature';
import { createMetrics } from '../../../src/metrics/metrics';
import { fuzzSequence, type FuzzFrame } from './fuzz-frames';
import { realProcess } from './real-process';

const TOKEN = 'fuzz-token';
const PATH = '/twilio/media-stream';
const WSS = `wss://voice.example.com${PATH}`;

export interface FuzzOptions {
  seed: number;
  /** Fuzzed streams (each a sequence of frames on its own connection). */
  runs: number;
  maxFrames?: number;
  /** Include rare frames close to the 1 MiB WebSocket limit. */
  huge?: boolean;
  /** Largest allowed gap (ms) between two outbound frames of the good call. */
  maxGapMs?: number;
}

export interface FuzzReport {
  seed: number;
  runs: number;
  frames: number;
  /** How the fuzzed streams ended: by close code, or `client` when the server kept them open. */
  endings: Record<string, number>;
  closedBy: Record<string, number>;
  goodFrames: number;
  /** Longest wall-clock gap between two outbound frames of the good call. */
  maxGapMs: number;
  /**
   * The same gap counted only while this process had the CPU (min of wall time and process CPU time over the gap):
   * work in the process (the server, the fuzzing client) shows here; the OS running other programs does not.
   */
  maxBusyGapMs: number;
  durationMs: number;
  problems: string[];
}

/**
 * Fuzzes a real Media Streams server (attachMediaStreamServer on an HTTP server, signed upgrades) while a good
 * call runs beside it: its stub handler sends 20 ms of audio every 20 ms, and its client sends 20 ms of audio every
 * 20 ms as Twilio does. Each fuzzed stream gets a sequence of frames (fuzz-frames.ts); then the client syncs with a
 * ping. (The client shares the event loop with the server, so the good call's gaps are measured both in wall time
 * and in CPU time of this process: on a loaded machine the OS may pause the whole process, which is not the
 * server's doing; a server that hogs the loop shows in both.) Property per stream: the server closed it with 1008 and a reason, with 1000 after a valid `stop`, or (for
 * a text frame that is not UTF-8) `ws` closed it with 1007 — or it is still open and well; a handler, if one was
 * made, is ended exactly once. Across the run: the good call stays open and never waits more than `maxGapMs` for
 * its next outbound frame (counting only time this process ran), and no unhandled rejection, uncaught exception or process warning occurs.
 * @throws the fast-check failure (with seed and counterexample) when the property fails.
 */
export async function runMediaStreamFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const problems: string[] = [];
  const onRejection = (err: unknown) => problems.push(`unhandledRejection: ${String(err)}`);
  const onException = (err: unknown) => problems.push(`uncaughtException: ${String(err)}`);
  const onWarning = (w: Error) => problems.push(`warning: ${w.name}: ${w.message}`);
  const proc = realProcess(); // under Jest, `process` is a sandbox copy that never sees these events
  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);
  proc.on('warning', onWarning);

  const metrics = createMetrics({ defaultMetrics: false });
  const made: string[] = [];
  const ended: Array<{ callSid: string; reason: string }> = [];
  let goodTimer: NodeJS.Timeout | undefined;
  let goodEnded: string | null = null;
  const server = http.createServer();
  const media = attachMediaStreamServer(server, {
    path: PATH,
    authToken: TOKEN,
    publicBaseUrl: 'https://voice.example.com',
    logger: pino({ level: 'silent' }),
    metrics,
    createHandler: async (start, transport): Promise<StreamHandler> => {
      const callSid = start.start.callSid;
      if (callSid === 'CAgood') {
        goodTimer = setInterval(() => transport.sendMedia(new Uint8Array(160).fill(0x7f)), 20);
        return { onMedia: () => {}, onDtmf: () => {}, onMark: () => {}, onEnd: (r) => { goodEnded = r; clearInterval(goodTimer); } };
      }
      made.push(callSid);
      return { onMedia: () => {}, onDtmf: () => {}, onMark: () => {}, onEnd: (reason) => void ended.push({ callSid, reason }) };
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const connect = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${PATH}`, { headers: { 'x-twilio-signature': signTwilioRequest(TOKEN, WSS, {}) } });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const waitFor = async (what: string, cond: () => boolean, ms = 2000) => {
    const end = performance.now() + ms;
    while (!cond()) {
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  // The good call.
  const good = await connect();
  let lastGood = 0;
  let lastCpu = 0;
  let maxGapMs = 0;
  let maxBusyGapMs = 0;
  let goodFrames = 0;
  good.on('message', () => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const cpuMs = (cpu.user + cpu.system) / 1000;
    if (lastGood) {
      maxGapMs = Math.max(maxGapMs, now - lastGood);
      maxBusyGapMs = Math.max(maxBusyGapMs, Math.min(now - lastGood, cpuMs - lastCpu));
    }
    lastGood = now;
    lastCpu = cpuMs;
    goodFrames++;
  });
  const goodClosed = new Promise<number>((r) => good.on('close', (code) => r(code)));
  good.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid: 'MZgood', start: { accountSid: 'AC1', streamSid: 'MZgood', callSid: 'CAgood', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {} } }));
  let seq = 2;
  const silence = Buffer.alloc(160, 0xff).toString('base64');
  const inbound = setInterval(() => {
    if (good.readyState !== WebSocket.OPEN) return;
    good.send(JSON.stringify({ event: 'media', sequenceNumber: String(seq), streamSid: 'MZgood', media: { track: 'inbound', chunk: String(seq - 1), timestamp: String((seq - 2) * 20), payload: silence } }));
    seq++;
  }, 20);
  await waitFor('the good call to start', () => goodFrames > 0);

  const endings: Record<string, number> = {};
  let frames = 0;
  let runs = 0;
  try {
    const prop = fc.asyncProperty(fuzzSequence(0, { maxFrames: o.maxFrames, huge: o.huge }), async (seqFrames: FuzzFrame[]) => {
      runs++;
      frames += seqFrames.length;
      made.length = 0;
      ended.length = 0;
      const ws = await connect();
      let closed: { code: number; reason: string } | null = null;
      const closing = new Promise<void>((r) => ws.on('close', (code, reason) => { closed = { code, reason: reason.toString() }; r(); }));
      ws.on('error', () => {});
      for (const f of seqFrames) {
        if (ws.readyState !== WebSocket.OPEN) break;
        if ('text' in f) ws.send(f.text);
        else ws.send(f.binary, { binary: !f.asText });
        // A peer's frames come off the network one by one: let other sockets and timers run between them (the
        // client shares this process's event loop with the server under test).
        await new Promise((r) => setImmediate(r));
      }
      if (ws.readyState === WebSocket.OPEN) {
        await Promise.race([new Promise<void>((r) => { ws.once('pong', () => r()); ws.ping(); }), closing]);
      }
      const byServer = closed !== null || ws.readyState !== WebSocket.OPEN;
      if (!byServer) ws.close(1000, 'fuzz client done');
      await closing;
      const c = closed as unknown as { code: number; reason: string };
      const key = byServer ? String(c.code) : 'client';
      endings[key] = (endings[key] ?? 0) + 1;
      if (byServer) {
        const utf8 = seqFrames.some((f) => 'binary' in f && f.asText);
        const ok = (c.code === 1008 && c.reason.length > 0) || (c.code === 1000 && c.reason === 'stream stopped') || (c.code === 1007 && utf8);
        if (!ok) throw new Error(`fuzzed stream closed with ${c.code} ${JSON.stringify(c.reason)}`);
      }
      await waitFor('the server side of the fuzzed stream to close', () => media.wss.clients.size === 1);
      await waitFor('each handler to be ended exactly once', () => ended.length >= made.length);
      await new Promise((r) => setImmediate(r));
      if (made.length > 1) throw new Error(`${made.length} handlers for one stream`);
      if (ended.length !== made.length) throw new Error(`${made.length} handlers made but ${ended.length} ended`);
      if (goodEnded !== null || good.readyState !== WebSocket.OPEN) throw new Error(`the good call ended: ${goodEnded}`);
      if (problems.length) throw new Error(problems.join('; '));
    });
    await fc.assert(prop, { seed: o.seed, numRuns: o.runs, endOnFailure: true });
    if (maxBusyGapMs > (o.maxGapMs ?? 250)) throw new Error(`the good call waited ${Math.round(maxGapMs)} ms for outbound audio while this process ran ${Math.round(maxBusyGapMs)} ms`);
  } finally {
    clearInterval(inbound);
    good.close();
    await goodClosed;
    await media.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    clearInterval(goodTimer);
    proc.off('unhandledRejection', onRejection);
    proc.off('uncaughtException', onException);
    proc.off('warning', onWarning);
  }
  const closedBy = Object.fromEntries((await metrics.streamsClosed.get()).values.map((v) => [v.labels.reason, v.value]));
  return { seed: o.seed, runs, frames, endings, closedBy, goodFrames, maxGapMs: Math.round(maxGapMs), maxBusyGapMs: Math.round(maxBusyGapMs), durationMs: Math.round(performance.now() - t0), problems };
}
