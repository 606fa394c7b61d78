import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import pino from 'pino';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { decoded, frames20ms, manualClock, phoneMulaw, readStereoWav, sameSamples } from '../../helpers/recording-audio';
import { startS3Double } from '../../doubles/s3-double';
import { AgentsRepo } from '../../../src/db/agents';
import { CallsRepo } from '../../../src/db/calls';
import { RecordingsRepo } from '../../../src/db/recordings';
import { recordingRoutes } from '../../../src/http/api/recordings';
import { RecordingWriter, recordingTaps } from '../../../src/recordings/recording-writer';
import { startRecordingRetention } from '../../../src/recordings/retention';
import { S3RecordingStorage } from '../../../src/recordings/s3-storage';
import { LocalRecordingStorage, type RecordingStorage } from '../../../src/recordings/storage';

const logger = pino({ level: 'silent' });
const DAY = 24 * 3_600_000;

describe('call recordings (real PostgreSQL, real audio)', () => {
  let db: Knex;
  let calls: CallsRepo;
  let recordings: RecordingsRepo;
  let dir: string;
  let local: LocalRecordingStorage;
  const agentId = uniqueSid('rec-agent-');
  const callerAudio = phoneMulaw('librivox-0870');
  const agentAudio = phoneMulaw('librivox-0880');

  const newCall = async (): Promise<string> => {
    const sid = uniqueSid('CA');
    await calls.create({ callSid: sid, agentId, direction: 'inbound', from: '+14155550100', to: '+18005550199', status: 'in-progress' });
    return sid;
  };

  /**
   * A simulated call on a hand-moved clock: the caller's frames arrive every 20 ms; at 500 ms the agent sends 2 s of
   * audio at once (Twilio plays it from 500 ms to 2500 ms); the caller barges in and a `clear` at 1500 ms drops the
   * rest; at 3000 ms the agent sends 100 ms more. Returns the writer's close promise.
   */
  const simulateCall = (writer: RecordingWriter, clock: ReturnType<typeof manualClock>): Promise<void> => {
    const frames = frames20ms(callerAudio);
    for (let i = 0; i < frames.length; i++) {
      clock.advance(20);
      writer.onInbound(frames[i]);
      const t = (i + 1) * 20;
      if (t === 500) for (let k = 0; k < 4; k++) writer.onOutbound(agentAudio.subarray(k * 4_000, (k + 1) * 4_000));
      if (t === 1_500) writer.onClear();
      if (t === 3_000) writer.onOutbound(agentAudio.subarray(20_000, 20_800));
    }
    return writer.close('stop');
  };

  /** The right channel the call above must produce (samples at 8 kHz). */
  const expectAgentChannel = (right: Int16Array) => {
    const silent = (from: number, to: number) => expect(right.subarray(from, to).every((s) => s === 0)).toBe(true);
    silent(0, 4_000); // before the agent spoke (0–500 ms)
    expect(sameSamples(right.subarray(4_000, 12_000), decoded(agentAudio.subarray(0, 8_000)))).toBe(true); // 500–1500 ms played
    silent(12_000, 24_000); // cut by the clear at 1500 ms, nothing until 3000 ms
    expect(sameSamples(right.subarray(24_000, 24_800), decoded(agentAudio.subarray(20_000, 20_800)))).toBe(true);
    silent(24_800, right.length);
  };

  beforeAll(async () => {
    db = await setupTestDb();
    calls = new CallsRepo(db);
    recordings = new RecordingsRepo(db);
    await new AgentsRepo(db).upsert({ id: agentId, name: 'recordings test', systemPrompt: 'Be brief.', firstMessage: 'Hi!', defaultLanguage: 'en', languages: ['en'], voices: { en: 'en-us' }, intents: [], handoffNumber: null, isDefault: false });
    dir = mkdtempSync(path.join(tmpdir(), 'recordings-'));
    local = new LocalRecordingStorage(dir);
  });

  afterAll(async () => {
    await db('calls').where({ agent_id: agentId }).delete();
    await db('agents').where({ id: agentId }).delete();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const writerFor = (sid: string, storage: RecordingStorage, clock: ReturnType<typeof manualClock>) =>
    new RecordingWriter(sid, { storage, recordings, events: calls, logger, clock, now: () => new Date('2026-12-02T12:00:00Z') });

  /** The caller's first `n` frames, 20 ms apart, into a new writer (returned open). */
  const callerOnly = (sid: string, storage: RecordingStorage, n: number): RecordingWriter => {
    const clock = manualClock();
    const writer = writerFor(sid, storage, clock);
    for (const f of frames20ms(callerAudio).slice(0, n)) {
      clock.advance(20);
      writer.onInbound(f);
    }
    return writer;
  };

  it('writes a time-aligned two-channel WAV: the caller left as received, the agent right where Twilio played it, cut at the clear', async () => {
    const sid = await newCall();
    const clock = manualClock();
    await simulateCall(writerFor(sid, local, clock), clock);

    const row = await recordings.get(sid);
    expect(row).toMatchObject({ callSid: sid, storage: 'local', key: `2026/12/02/${sid}.wav`, channels: 2 });
    const file = readFileSync(path.join(dir, row!.key));
    expect(row!.bytes).toBe(file.length);
    const wav = readStereoWav(file);
    expect([wav.sampleRate, wav.channels]).toEqual([8_000, 2]);
    expect(sameSamples(wav.left, decoded(callerAudio))).toBe(true); // every caller sample, in order, from 0
    expect(callerAudio.length).toBeGreaterThan(24_800);
    expectAgentChannel(wav.right);
    expect(row!.durationMs).toBe(Math.round(callerAudio.length / 8));
    const events = await calls.events(sid);
    expect(events.find((e) => e.type === 'recording.ready')?.payload).toEqual({ durationMs: row!.durationMs, bytes: file.length, storage: 'local' });
    expect(readdirSync(path.join(dir, '.partial'))).toEqual([]); // the partial file was moved, not copied
    expect((await calls.detail(sid))?.recordingUrl).toBe(`/api/calls/${sid}/recording`);
  });

  it('writes to the partial file during the call (1 s chunks), not at the end', async () => {
    const sid = await newCall();
    const writer = callerOnly(sid, local, 150);
    const partial = () => readdirSync(path.join(dir, '.partial')).filter((f) => f.startsWith(sid));
    // 3 s of frames: 3 chunks of 1 s (4 bytes per sample pair) after the 44-byte header, written asynchronously.
    const expected = 44 + 3 * 8_000 * 4;
    for (let i = 0; i < 200 && !(partial().length && readFileSync(path.join(dir, '.partial', partial()[0])).length === expected); i++) await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(path.join(dir, '.partial', partial()[0])).length).toBe(expected);
    await writer.close('stop');
    expect(partial()).toEqual([]);
    expect((await recordings.get(sid))?.durationMs).toBe(3_000);
  });

  it('stores nothing for a call without audio, and a failing disk stops only the recording', async () => {
    const sid = await newCall();
    await writerFor(sid, local, manualClock()).close('stop');
    expect(await recordings.get(sid)).toBeNull();
    expect((await calls.detail(sid))?.recordingUrl).toBeNull();

    const broken = new LocalRecordingStorage(path.join(dir, 'file-not-dir'));
    rmSync(path.join(dir, 'file-not-dir'), { force: true, recursive: true });
    writeFileSync(path.join(dir, 'file-not-dir'), 'x'); // mkdir of .partial under a file fails
    const clock = manualClock();
    const writer = writerFor(sid, broken, clock);
    for (const f of frames20ms(callerAudio).slice(0, 100)) {
      clock.advance(20);
      expect(() => writer.onInbound(f)).not.toThrow();
    }
    await expect(writer.close('stop')).resolves.toBeUndefined();
    expect(await recordings.get(sid)).toBeNull();
  });

  it("the tap factory records a call unless its agent's recordCalls is false", async () => {
    const factory = recordingTaps({ storage: local, recordings, events: calls, logger });
    expect(factory({ callSid: 'CAnotrecorded', recordCalls: false })).toBeNull();
    const sid = await newCall();
    const tap = factory({ callSid: sid, recordCalls: true });
    expect(tap).toBeInstanceOf(RecordingWriter);
    await tap!.close('stop'); // no audio: nothing stored
    expect(await recordings.get(sid)).toBeNull();
  });

  describe('GET /api/calls/:callSid/recording (Range)', () => {
    let base: string;
    let close: () => Promise<void>;
    let viewer: Record<string, string>;
    let sid: string;
    let file: Buffer;

    beforeAll(async () => {
      sid = await newCall();
      const clock = manualClock();
      await simulateCall(writerFor(sid, local, clock), clock);
      file = readFileSync(path.join(dir, (await recordings.get(sid))!.key));
      const s = await serveRoutes(recordingRoutes({ recordings, storage: local }));
      ({ base, close } = s);
      viewer = s.as('viewer');
    });
    afterAll(() => close());

    const get = (headers: Record<string, string> = {}, s = sid) => fetch(`${base}/api/calls/${s}/recording`, { headers: { ...viewer, ...headers } });

    it('serves the whole file to any role, with Accept-Ranges; 401 without a principal; 404 without a recording', async () => {
      const res = await get();
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('audio/wav');
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(res.headers.get('content-length')).toBe(String(file.length));
      expect(Buffer.from(await res.arrayBuffer()).equals(file)).toBe(true);
      expect((await fetch(`${base}/api/calls/${sid}/recording`)).status).toBe(401);
      const none = await get({}, await newCall());
      expect(none.status).toBe(404);
      expect((await get({}, 'bad sid!')).status).toBe(400);
    });

    it.each([
      ['bytes=0-43', 0, 43],
      ['bytes=1000-', 1000, null],
      ['bytes=-10', null, null],
      ['bytes=5000-5999', 5000, 5999],
    ])('%s → 206 with exactly those bytes and Content-Range', async (range, from, to) => {
      const res = await get({ range });
      expect(res.status).toBe(206);
      const start = from ?? file.length - 10;
      const end = to ?? file.length - 1;
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${file.length}`);
      expect(res.headers.get('content-length')).toBe(String(end - start + 1));
      expect(Buffer.from(await res.arrayBuffer()).equals(file.subarray(start, end + 1))).toBe(true);
    });

    it('416 with Content-Range */size for a range past the end or a malformed one; several ranges → the whole file', async () => {
      for (const range of [`bytes=${file.length}-`, 'bytes=abc', 'items=0-5']) {
        const res = await get({ range });
        expect(res.status).toBe(416);
        expect(res.headers.get('content-range')).toBe(`bytes */${file.length}`);
      }
      const multi = await get({ range: 'bytes=0-1,100-200' });
      expect(multi.status).toBe(200);
      expect((await multi.arrayBuffer()).byteLength).toBe(file.length);
    });
  });

  describe('S3-compatible storage (the real SDK against a local double of the S3 wire)', () => {
    const creds = { accessKeyId: 'AKIATESTRECORDINGS', secretAccessKey: 'test-secret-key-not-real' };
    let s3: Awaited<ReturnType<typeof startS3Double>>;
    let storage: S3RecordingStorage;

    beforeAll(async () => {
      s3 = await startS3Double({ accessKeyId: creds.accessKeyId, bucket: 'calls' });
      storage = new S3RecordingStorage({ bucket: 'calls', endpoint: s3.endpoint, region: 'us-east-1', credentials: creds, partialDir: path.join(dir, '.partial') });
    });
    afterAll(async () => {
      storage.close();
      await s3.close();
    });

    it('uploads the recording with PutObject, serves a Range through GetObject, and 404s a missing object', async () => {
      const sid = await newCall();
      const clock = manualClock();
      await simulateCall(writerFor(sid, storage, clock), clock);
      const row = await recordings.get(sid);
      expect(row).toMatchObject({ storage: 's3', key: `2026/12/02/${sid}.wav` });
      const obj = s3.objects.get(`calls/${row!.key}`)!;
      expect(obj.contentType).toBe('audio/wav');
      expect(obj.body.length).toBe(row!.bytes);
      const wav = readStereoWav(obj.body);
      expect(sameSamples(wav.left, decoded(callerAudio))).toBe(true);
      expectAgentChannel(wav.right);
      expect(readdirSync(path.join(dir, '.partial')).filter((f) => f.startsWith(sid))).toEqual([]);

      const api = await serveRoutes(recordingRoutes({ recordings, storage }));
      try {
        const res = await fetch(`${api.base}/api/calls/${sid}/recording`, { headers: { ...api.as('viewer'), range: 'bytes=44-143' } });
        expect(res.status).toBe(206);
        expect(res.headers.get('content-range')).toBe(`bytes 44-143/${row!.bytes}`);
        expect(Buffer.from(await res.arrayBuffer()).equals(obj.body.subarray(44, 144))).toBe(true);
        expect(s3.requests.filter((r) => r.method === 'GET').pop()).toMatchObject({ key: row!.key, range: 'bytes=44-143' });
        s3.objects.delete(`calls/${row!.key}`);
        expect((await fetch(`${api.base}/api/calls/${sid}/recording`, { headers: api.as('viewer') })).status).toBe(404);
        // A server configured for local storage does not look for an S3 recording on its disk.
        const other = await serveRoutes(recordingRoutes({ recordings, storage: local }));
        expect((await fetch(`${other.base}/api/calls/${sid}/recording`, { headers: other.as('viewer') })).status).toBe(404);
        await other.close();
      } finally {
        await api.close();
      }
    });

    it('retention deletes expired objects and their rows, and keeps the recent ones', async () => {
      const [old, recent] = [await newCall(), await newCall()];
      for (const sid of [old, recent]) await callerOnly(sid, storage, 60).close('stop');
      const now = new Date('2027-06-01T00:00:00Z');
      await db('recordings').where({ call_sid: old }).update({ created_at: new Date(now.getTime() - 31 * DAY) });
      await db('recordings').where({ call_sid: recent }).update({ created_at: new Date(now.getTime() - 29 * DAY) });
      const oldKey = (await recordings.get(old))!.key;
      const job = startRecordingRetention({ recordings, storage, logger, retentionDays: 30, now: () => now, intervalMs: 3_600_000 });
      try {
        expect(await job.runOnce()).toBeGreaterThanOrEqual(1);
      } finally {
        await job.stop();
      }
      expect(await recordings.get(old)).toBeNull();
      expect(s3.objects.has(`calls/${oldKey}`)).toBe(false);
      expect(s3.requests.some((r) => r.method === 'DELETE' && r.key === oldKey)).toBe(true);
      expect(await recordings.get(recent)).not.toBeNull();
      expect(s3.objects.has(`calls/${(await recordings.get(recent))!.key}`)).toBe(true);
    });
  });

  it('retention (local): the file and the row go, a failing delete is retried on the next run', async () => {
    const sid = await newCall();
    await callerOnly(sid, local, 60).close('stop');
    const row = (await recordings.get(sid))!;
    const now = new Date('2027-06-01T00:00:00Z');
    await db('recordings').where({ call_sid: sid }).update({ created_at: new Date(now.getTime() - 100 * DAY) });
    let failures = 1;
    const flaky = { delete: async (key: string) => (failures-- > 0 ? Promise.reject(new Error('EACCES')) : local.delete(key)) };
    const job = startRecordingRetention({ recordings, storage: flaky, logger, retentionDays: 90, now: () => now });
    try {
      await job.runOnce();
      expect(await recordings.get(sid)).not.toBeNull();
      expect(existsSync(path.join(dir, row.key))).toBe(true);
      await job.runOnce();
    } finally {
      await job.stop();
    }
    expect(await recordings.get(sid)).toBeNull();
    expect(existsSync(path.join(dir, row.key))).toBe(false);
  });
});
