import { readFileSync } from 'node:fs';
import { parseWav } from '../audio/wav';
import { pcmToMulaw8k } from '../audio/frames';
import type { CallDetail } from '../db/calls';
import type { SimulateCallResult } from './twilio-simulator';

/** Reads a WAV file (any rate, PCM16) and converts it to 8 kHz mu-law as a phone line carries it. */
export function wavFileToMulaw8k(path: string): Uint8Array {
  return pcmToMulaw8k(parseWav(readFileSync(path)));
}

/**
 * Polls `GET /api/calls/:callSid` until `done(detail)` holds or `timeoutMs` passes; returns the last detail.
 * @throws Error on a non-2xx answer other than 404.
 */
export async function waitForCall(apiBase: string, apiKey: string, callSid: string, done: (d: CallDetail) => boolean, timeoutMs = 30_000): Promise<CallDetail | null> {
  const deadline = Date.now() + timeoutMs;
  let last: CallDetail | null = null;
  for (;;) {
    const res = await fetch(`${apiBase}/api/calls/${encodeURIComponent(callSid)}`, { headers: { authorization: `Bearer ${apiKey}` } });
    if (res.ok) last = (await res.json()) as CallDetail;
    else if (res.status !== 404) throw new Error(`GET /api/calls/${callSid} answered ${res.status}`);
    if ((last && done(last)) || Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Human-readable lines describing a simulated call and what the API stored for it. */
export function formatCallReport(sim: SimulateCallResult, detail: CallDetail | null): string[] {
  const lines = [`call ${sim.callSid} (stream ${sim.streamSid}) lasted ${(sim.durationMs / 1000).toFixed(1)} s`];
  const agentSeconds = sim.agentAudio.length / 8000;
  lines.push(`agent audio received: ${sim.agentAudio.length} bytes mu-law (${agentSeconds.toFixed(1)} s) in ${sim.segments.length} segment(s), ${sim.clears} clear(s), ${sim.wavHeaders} WAV header(s)`);
  lines.push(`reply latency (end of caller audio -> first agent audio, measured by the caller): ${sim.replyLatencyMs ?? 'no reply'} ms`);
  if (!detail) return [...lines, 'call not found through the API'];
  lines.push(`status ${detail.status}, language ${detail.language}, intent ${detail.intent ?? '-'}`);
  for (const t of detail.turns) lines.push(`  [${(t.startMs / 1000).toFixed(1)}-${(t.endMs / 1000).toFixed(1)} s] ${t.role.padEnd(6)} (${t.language ?? '?'}): ${t.text}`);
  lines.push(`CSAT: ${detail.csat ? `${detail.csat.score}/5 (${detail.csat.method})` : 'not scored yet'}`);
  lines.push(`CRM sync: ${detail.crmSync.status} after ${detail.crmSync.attempts} attempt(s)`);
  return lines;
}
