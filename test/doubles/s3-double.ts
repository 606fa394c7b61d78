import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the double received (method, path-style object path, the headers that matter here). */
export interface S3Request {
  method: string;
  bucket: string;
  key: string;
  range?: string;
  contentType?: string;
}

/**
 * A local stand-in for the S3 REST API's object operations, path-style (`/<bucket>/<key>`), as `@aws-sdk/client-s3`
 * speaks it with `forcePathStyle` (docs.aws.amazon.com/AmazonS3/latest/API: PutObject, GetObject, DeleteObject):
 *
 * - Every request must carry SigV4 auth (`Authorization: AWS4-HMAC-SHA256 Credential=<accessKeyId>/<date>/<region>/s3/
 *   aws4_request, SignedHeaders=…, Signature=…`) with the expected access key, and `x-amz-content-sha256` equal to the
 *   body's SHA-256 or `UNSIGNED-PAYLOAD`; else 403 `SignatureDoesNotMatch` / `XAmzContentSHA256Mismatch`.
 * - PUT stores the body (200, `ETag`); GET returns it (200) or one `Range: bytes=a-b` / `a-` / `-n` (206 with
 *   `Content-Range`; 416 `InvalidRange` past the end); a missing key is 404 `NoSuchKey` (XML error body); DELETE is
 *   204 whether or not the key exists.
 */
export async function startS3Double(o: { accessKeyId: string; bucket: string }): Promise<{
  endpoint: string;
  objects: Map<string, { body: Buffer; contentType?: string }>;
  requests: S3Request[];
  close(): Promise<void>;
}> {
  const objects = new Map<string, { body: Buffer; contentType?: string }>();
  const requests: S3Request[] = [];
  const xmlError = (res: http.ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    requests.push({ method: req.method ?? '', bucket, key, range: req.headers.range, contentType: req.headers['content-type'] });
    const auth = req.headers.authorization ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/.exec(auth);
    if (!m || m[1] !== o.accessKeyId) return xmlError(res, 403, 'SignatureDoesNotMatch', 'bad or missing SigV4 authorization');
    const sha = req.headers['x-amz-content-sha256'];
    if (sha !== 'UNSIGNED-PAYLOAD' && sha !== createHash('sha256').update(body).digest('hex')) return xmlError(res, 400, 'XAmzContentSHA256Mismatch', 'payload hash mismatch');
    if (bucket !== o.bucket) return xmlError(res, 404, 'NoSuchBucket', 'no such bucket');
    const path = `${bucket}/${key}`;
    if (req.method === 'PUT') {
      if (req.headers['content-length'] !== String(body.length)) return xmlError(res, 400, 'IncompleteBody', 'content-length mismatch');
      objects.set(path, { body, contentType: req.headers['content-type'] });
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      return res.end();
    }
    if (req.method === 'DELETE') {
      objects.delete(path);
      res.writeHead(204);
      return res.end();
    }
    if (req.method === 'GET') {
      const obj = objects.get(path);
      if (!obj) return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      const size = obj.body.length;
      const headers = { 'content-type': obj.contentType ?? 'binary/octet-stream', 'accept-ranges': 'bytes', etag: '"x"', 'last-modified': new Date(0).toUTCString() };
      const r = req.headers.range ? /^bytes=(\d*)-(\d*)$/.exec(req.headers.range) : null;
      if (!r) {
        res.writeHead(200, { ...headers, 'content-length': size });
        return res.end(obj.body);
      }
      let start = r[1] === '' ? size - Number(r[2]) : Number(r[1]);
      let end = r[1] === '' || r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
      if (start < 0) start = 0;
      if (start >= size || end < start) return xmlError(res, 416, 'InvalidRange', 'The requested range is not satisfiable');
      end = Math.min(end, size - 1);
      res.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` });
      return res.end(obj.body.subarray(start, end + 1));
    }
    xmlError(res, 405, 'MethodNotAllowed', 'not supported by the double');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
