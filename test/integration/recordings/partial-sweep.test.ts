import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { PARTIAL_MAX_AGE_MS, startPartialRecordingSweep } from '../../../src/recordings/partial-sweep';

describe('partial recording sweep', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'partial-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes only *.wav.part files untouched for more than a day, and counts them', async () => {
    const now = new Date('2026-12-03T12:00:00Z');
    const at = (msAgo: number) => new Date(now.getTime() - msAgo);
    const files: Array<[string, Date]> = [
      ['CAcrashed-0a1b2c3d.wav.part', at(PARTIAL_MAX_AGE_MS + 60_000)],
      ['CAlive-11223344.wav.part', at(2_000)],
      ['CAyesterday-55667788.wav.part', at(PARTIAL_MAX_AGE_MS - 60_000)],
      ['notes.txt', at(10 * PARTIAL_MAX_AGE_MS)],
    ];
    for (const [name, mtime] of files) {
      writeFileSync(path.join(dir, name), Buffer.alloc(64));
      utimesSync(path.join(dir, name), mtime, mtime);
    }
    const sweep = startPartialRecordingSweep({ dir, logger: pino({ level: 'silent' }), now: () => now, intervalMs: 3_600_000 });
    try {
      // The first run starts at once; runOnce joins it.
      expect(await sweep.runOnce()).toBe(1);
      expect(readdirSync(dir).sort()).toEqual(['CAlive-11223344.wav.part', 'CAyesterday-55667788.wav.part', 'notes.txt']);
      expect(await sweep.runOnce()).toBe(0);
    } finally {
      await sweep.stop();
    }
  });

  it('does nothing when the directory does not exist yet', async () => {
    const sweep = startPartialRecordingSweep({ dir: path.join(dir, 'missing'), logger: pino({ level: 'silent' }) });
    try {
      expect(await sweep.runOnce()).toBe(0);
    } finally {
      await sweep.stop();
    }
  });
});
