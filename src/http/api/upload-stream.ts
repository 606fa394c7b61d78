import { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import multer from 'multer';
import { ApiError } from './route';

/** Largest upload accepted by default (bytes). */
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;

const tooLarge = (maxBytes: number) => new ApiError(413, `upload larger than ${maxBytes} bytes; split the file or raise the limit`);

/**
 * `input` passed through unchanged while at most `maxBytes` bytes have come; the next byte makes the returned stream
 * fail with ApiError 413 (so a consumer reading it rolls back instead of keeping what it read so far). Lazy: `input` is
 * read only as the consumer reads, so the error reaches the consumer's own stream, never an unheard one.
 */
function capped(input: Readable, maxBytes: number): Readable {
  async function* limited() {
    let seen = 0;
    for await (const chunk of input as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > maxBytes) throw tooLarge(maxBytes);
      yield chunk;
    }
  }
  return Readable.from(limited(), { objectMode: false });
}

/**
 * Hands an uploaded CSV to `consume` as a stream, never buffering it: a `text/csv` body is the request itself; a
 * `multipart/form-data` body's `file` part is streamed through a multer storage engine that consumes it as it
 * arrives (other text fields are ignored). `consume` gets the file name (multipart) or null. At most `maxBytes` bytes
 * (default {@link MAX_UPLOAD_BYTES}) of CSV are read: a `Content-Length` above it is refused before reading, and a
 * longer stream (chunked, or a multipart file) errors at the first byte beyond it, so `consume` fails rather than
 * finishing on a truncated file.
 * @throws ApiError 400 when a multipart body has no `file` part or another file part, 413 over `maxBytes`;
 *   whatever `consume` throws.
 */
export async function consumeUpload<T>(req: Request, res: Response, consume: (input: Readable, fileName: string | null) => Promise<T>, o: { maxBytes?: number } = {}): Promise<T> {
  const maxBytes = o.maxBytes ?? MAX_UPLOAD_BYTES;
  if (!req.is('multipart/form-data')) {
    try {
      if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw tooLarge(maxBytes);
      return await consume(capped(req, maxBytes), null);
    } catch (err) {
      // The limiter's 413 may reach `consume`'s caller wrapped by the CSV parser's stream; surface it as it is.
      throw find413(err) ?? err;
    } finally {
      req.resume();
    }
  }
  let out: { value: T } | null = null;
  const storage: multer.StorageEngine = {
    _handleFile(_req, file, cb) {
      consume(capped(file.stream, maxBytes), file.originalname || null).then(
        (value) => {
          out = { value };
          file.stream.resume();
          cb(null, {});
        },
        (err) => {
          file.stream.resume();
          cb(err);
        },
      );
    },
    _removeFile(_req, _file, cb) {
      cb(null);
    },
  };
  // multer's own limit is one byte above ours: the limiter sees the extra byte and fails the import first.
  const upload = multer({ storage, limits: { files: 1, fileSize: maxBytes + 1, fields: 20 } }).single('file');
  try {
    await new Promise<void>((resolve, reject) => upload(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
  } catch (err) {
    if (err instanceof multer.MulterError) {
      if (err.code === 'LIMIT_FILE_SIZE') throw tooLarge(maxBytes);
      throw new ApiError(400, `multipart body: ${err.message}${err.field ? ` (${err.field})` : ''}; send one CSV as the file field`);
    }
    throw find413(err) ?? err;
  }
  if (!out) throw new ApiError(400, 'multipart body: no file field (send the CSV as the file part)');
  return (out as { value: T }).value;
}

/** The 413 of the limiter in `err` or its `cause` chain, if that is what failed. */
function find413(err: unknown): ApiError | null {
  for (let e = err as { cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) if (e instanceof ApiError && e.status === 413) return e;
  return null;
}
