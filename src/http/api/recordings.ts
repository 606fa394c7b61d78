import { pipeline } from 'node:stream/promises';
import type { RecordingsRepo } from '../../db/recordings';
import type { ByteRange, RecordingStorage } from '../../recordings/storage';
import { callSidParams } from './calls';
import { ApiError, defineRoute, errorSchema, type ApiRoute } from './route';

/** Where the recordings route finds recordings. */
export interface RecordingRouteDeps {
  recordings: Pick<RecordingsRepo, 'get'>;
  /** Absent: no storage configured here (every recording is 404). */
  storage?: Pick<RecordingStorage, 'kind' | 'read'>;
}

/**
 * `GET /api/calls/:callSid/recording` (role `viewer`): the call's two-channel WAV (caller left, agent right, 8 kHz
 * 16-bit PCM), streamed from local storage or S3. HTTP range requests (RFC 9110 §14): `Accept-Ranges: bytes` always;
 * one satisfiable `Range: bytes=…` range → 206 with `Content-Range: bytes start-end/size` and just those bytes (from
 * S3: the range is passed to GetObject); several ranges → the whole file (200; a server may ignore a Range, §14.2);
 * an unsatisfiable or malformed range → 416 with `Content-Range: bytes * /size`. 404 when the call has no recording
 * (or its file is gone, or it sits in a storage this server is not configured for).
 */
export function recordingRoutes(d: RecordingRouteDeps): ApiRoute[] {
  const route = defineRoute({
    method: 'get',
    path: '/api/calls/:callSid/recording',
    role: 'viewer',
    tag: 'calls',
    summary: "The call's recording (two-channel WAV, HTTP Range supported)",
    description:
      'Caller on the left channel, agent on the right, 8 kHz 16-bit PCM, time-aligned as the caller heard it. Send `Range: bytes=start-end` for part of it (206 with `Content-Range`).',
    params: callSidParams,
    responses: {
      200: { description: 'The whole WAV file.', contentType: 'audio/wav' },
      206: { description: 'The requested byte range of the WAV file (`Content-Range: bytes start-end/size`).', contentType: 'audio/wav' },
      404: { description: 'The call has no recording.', schema: errorSchema },
      416: { description: 'The range is malformed or past the end (`Content-Range: bytes */size`).', schema: errorSchema },
    },
    handler: async ({ req, res, params }) => {
      const rec = await d.recordings.get(params.callSid);
      const storage = d.storage;
      if (!rec || !storage || rec.storage !== storage.kind) throw new ApiError(404, `call ${params.callSid} has no recording`);
      let range: ByteRange | undefined;
      if (req.headers.range !== undefined) {
        const ranges = req.range(rec.bytes, { combine: true });
        if (ranges === undefined || typeof ranges === 'number' || ranges.type !== 'bytes') {
          res.set('Content-Range', `bytes */${rec.bytes}`);
          throw new ApiError(416, `range not satisfiable: the recording is ${rec.bytes} bytes`);
        }
        if (ranges.length === 1) range = ranges[0];
      }
      const body = await storage.read(rec.key, range);
      if (!body) throw new ApiError(404, `call ${params.callSid} has no recording (its file is missing)`);
      res.status(range ? 206 : 200).set({
        'Content-Type': 'audio/wav',
        'Accept-Ranges': 'bytes',
        'Content-Length': String(range ? range.end - range.start + 1 : rec.bytes),
        'Content-Disposition': `inline; filename="${params.callSid}.wav"`,
        'Cache-Control': 'private, max-age=0',
        ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${rec.bytes}` } : {}),
      });
      // A storage error mid-stream aborts the response (the client sees a short body, never a "complete" file).
      await pipeline(body, res).catch(() => res.destroy());
      return undefined;
    },
  });
  return [route] as ApiRoute[];
}
