import { ApiFailure } from './client';

/**
 * POSTs a multipart form with upload progress (fetch cannot report it; XMLHttpRequest can). Same origin, so the
 * session cookie goes along. `onProgress` gets 0..1. Resolves with the parsed JSON answer of a 2xx.
 * @throws ApiFailure for a non-2xx answer (its `error` message), or on a network failure (status 0).
 */
export function uploadForm<T>(url: string, form: FormData, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      const body = (xhr.response ?? {}) as { error?: string };
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else reject(new ApiFailure(xhr.status, typeof body.error === 'string' ? body.error : `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new ApiFailure(0, 'the upload failed (network error)'));
    xhr.send(form);
  });
}
