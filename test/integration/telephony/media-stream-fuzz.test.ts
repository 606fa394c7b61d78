import { runMediaStreamFuzz } from './media-stream-fuzz';

describe('Media Streams server under fuzzed peers', () => {
  it('closes only the fuzzed streams, ends each handler once, and the good call keeps its audio on time', async () => {
    const report = await runMediaStreamFuzz({ seed: 424_242, runs: 500, maxFrames: 16, huge: true, maxGapMs: 250 });
    expect(report.problems).toEqual([]);
    expect(report.runs).toBe(500);
    expect(report.frames).toBeGreaterThan(3000);
    // The fuzz reached the interesting endings, not only one kind.
    expect(report.endings['1008']).toBeGreaterThan(100);
    expect(report.endings.client).toBeGreaterThan(10);
    expect(report.closedBy.ahead_of_real_time).toBeGreaterThan(0);
    expect(report.closedBy.protocol).toBeGreaterThan(100);
    expect(report.goodFrames).toBeGreaterThan(report.durationMs / 20 / 2);
    expect(report.maxBusyGapMs).toBeLessThanOrEqual(250);
  });
});
