import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ByteRange, RecordingStorage } from './storage';

/** Where an {@link S3RecordingStorage} uploads (Config `recordings.s3`). */
export interface S3RecordingOptions {
  bucket: string;
  /** An S3-compatible endpoint (MinIO, R2, a test double); unset = AWS. A custom endpoint uses path-style URLs. */
  endpoint?: string;
  region: string;
  /** Unset = the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Local directory for recordings being written before the upload. */
  partialDir: string;
}

/**
 * Recordings as objects of an S3-compatible bucket (`@aws-sdk/client-s3` v3): PutObject of the finished file
 * (streamed, `Content-Length` given, `Content-Type: audio/wav`), GetObject with a `Range` header for partial reads,
 * DeleteObject for retention. Request checksums are sent only where an operation requires them
 * (`requestChecksumCalculation: 'WHEN_REQUIRED'`): since SDK 3.729 the default adds CRC32 trailers with
 * `aws-chunked` encoding, which several S3-compatible services refuse.
 */
export class S3RecordingStorage implements RecordingStorage {
  readonly kind = 's3' as const;
  readonly partialDir: string;
  private readonly client: S3Client;

  constructor(private readonly o: S3RecordingOptions) {
    this.partialDir = o.partialDir;
    this.client = new S3Client({
      region: o.region,
      endpoint: o.endpoint,
      forcePathStyle: !!o.endpoint,
      credentials: o.credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async save(file: string, key: string, bytes: number): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.o.bucket, Key: key, Body: createReadStream(file), ContentLength: bytes, ContentType: 'audio/wav' }));
    await rm(file, { force: true });
  }

  async read(key: string, range?: ByteRange): Promise<Readable | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      return out.Body as Readable;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: key }));
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy();
  }
}
