import { spawn } from 'node:child_process';
import path from 'node:path';
import { emit, progress } from './stats';

/** One JSON line a standalone campaign benchmark printed. */
type Line = Record<string, unknown>;

/**
 * Runs a standalone benchmark script (`npx tsx bench/<file> …args`) in its own process (its own RSS, its own scratch
 * database) and returns the JSON lines of its stdout; its stderr is passed through as progress.
 * @throws Error when it exits non-zero.
 */
async function runScript(file: string, args: string[]): Promise<Line[]> {
  const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, [path.join(__dirname, file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code: number | null = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`bench/${file} exited with ${code}`);
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

/**
 * The outbound-campaign figures of issue 11, as `{ name, value, unit, … }` lines like the rest of `npm run bench`:
 * - bench/contact-import.ts (`rows` contacts, default 100,000, through the API's streaming import path) →
 *   `csv_import_rows_per_s` and `csv_import_peak_rss_mb` (peak RSS of the importing process);
 * - bench/dial-pacing.ts (two dispatchers, the Redis CPS pacer, CPS 5) → `dial_pacing_error_ms_p95` and
 *   `dispatcher_decisions_per_s`, passed through.
 * Each script creates and drops its own scratch database on the server of `adminDatabaseUrl` (any database there).
 */
export async function campaignFigures(o: { adminDatabaseUrl: string; redisUrl: string; rows: number }): Promise<void> {
  progress(`contact import: ${o.rows} CSV rows (bench/contact-import.ts)`);
  for (const l of await runScript('contact-import.ts', [String(o.rows), o.adminDatabaseUrl])) {
    const ctx = { rows: l.rows, accepted: l.accepted, duplicates: l.duplicates, rejected: l.rejectedCount, seconds: l.seconds, measured: 'csvRows → contactFromCsv → importContacts from a file stream (batches of 1,000), one process' };
    emit({ name: 'csv_import_rows_per_s', value: l.rowsPerSecond as number, unit: 'rows/s', ...ctx });
    emit({ name: 'csv_import_peak_rss_mb', value: l.peakRssMb as number, unit: 'MB', rss_growth_mb: l.rssGrowthMb, rows: l.rows });
  }
  progress('dial pacing and dispatcher decisions (bench/dial-pacing.ts)');
  for (const l of await runScript('dial-pacing.ts', [o.adminDatabaseUrl, o.redisUrl])) emit(l as Parameters<typeof emit>[0]);
}
