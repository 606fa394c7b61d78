import { Writable } from 'stream';
import pino from 'pino';
import type { Counter } from 'prom-client';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics';
import type { Pcm } from '../../../src/audio/types';

/** Metrics of one test (no Node default metrics). */
export const testMetrics = (): Metrics => createMetrics({ defaultMetrics: false });

/** Value of a counter for exactly these labels (0 when never incremented). */
export async function counterValue<L extends string>(c: Counter<L>, labels: Partial<Record<L, string>>): Promise<number> {
  const { values } = await c.get();
  const hit = values.find((v) => Object.keys(labels).length === Object.keys(v.labels).length && Object.entries(labels).every(([k, val]) => v.labels[k as L] === val));
  return hit?.value ?? 0;
}

/** Sum of a counter over all label sets. */
export async function counterTotal<L extends string>(c: Counter<L>): Promise<number> {
  return (await c.get()).values.reduce((s, v) => s + v.value, 0);
}

/** A pino logger whose JSON lines are collected in `lines`. */
export function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** 100 ms of silence at 8 kHz. */
export const utterance = (): Pcm => ({ samples: new Int16Array(800), sampleRate: 8000 });

/** Collects an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Collects an async iterable, returning what came before the error along with the error. */
export async function collectUntilError<T>(it: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const x of it) items.push(x);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}
