import type { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import multer from 'multer';
import { ApiError } from './route';

/** Largest multipart file accepted (bytes). */
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;

/**
 * Hands an uploaded CSV to `consume` as a stream, never buffering it: a `text/csv` body is the request itself; a
 * `multipart/form-data` body's `file` part is streamed through a multer storage engine that consumes it as it
 * arrives (other text fields are ignored). `consume` gets the file name (multipart) or null.
 * @throws ApiError 400 when a multipart body has no `file` part or another file part, 413 over {@link MAX_UPLOAD_BYTES};
 *   whatever `consume` throws.
 */
export async function consumeUpload<T>(req: Request, res: Response, consume: (input: Readable, fileName: string | null) => Promise<T>): Promise<T> {
  if (!req.is('multipart/form-data')) {
    try {
      return await consume(req, null);
    } finally {
      req.resume();
    }
  }
  let out: { value: T } | null = null;
  const storage: multer.StorageEngine = {
    _handleFile(_req, file, cb) {
      consume(file.stream, file.originalname || null).then(
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
  const upload = multer({ storage, limits: { files: 1, fileSize: MAX_UPLOAD_BYTES, fields: 20 } }).single('file');
  try {
    await new Promise<void>((resolve, reject) => upload(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
  } catch (err) {
    if (err instanceof multer.MulterError) {
      if (err.code === 'LIMIT_FILE_SIZE') throw new ApiError(413, `file: larger than ${MAX_UPLOAD_BYTES} bytes`);
      throw new ApiError(400, `multipart body: ${err.message}${err.field ? ` (${err.field})` : ''}; send one CSV as the file field`);
    }
    throw err;
  }
  if (!out) throw new ApiError(400, 'multipart body: no file field (send the CSV as the file part)');
  return (out as { value: T }).value;
}
