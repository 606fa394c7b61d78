import path from 'node:path';
import { convert as convertHtml, type HtmlToTextOptions } from 'html-to-text';
import { Worker } from 'node:worker_threads';

/**
 * Plain text from uploaded knowledge files: `.txt`, `.md`, `.html` and `.pdf` (the PDF in a worker thread).
 */

export type SourceFormat = 'txt' | 'md' | 'html' | 'pdf';

/** A file of a supported type whose content cannot be read (not UTF-8, a broken PDF, no text; the API answers 400). */
export class UnreadableDocumentError extends Error {
  override readonly name = 'UnreadableDocumentError';
}

const BY_EXTENSION: Record<string, SourceFormat> = { '.txt': 'txt', '.text': 'txt', '.md': 'md', '.markdown': 'md', '.html': 'html', '.htm': 'html', '.pdf': 'pdf' };
const BY_MIME: Record<string, SourceFormat> = { 'text/plain': 'txt', 'text/markdown': 'md', 'text/x-markdown': 'md', 'text/html': 'html', 'application/pdf': 'pdf' };

/** Extensions accepted by {@link formatOf}, for error messages. */
export const SUPPORTED_EXTENSIONS = ['.txt', '.md', '.html', '.pdf'] as const;

/**
 * The format of an uploaded file: by its extension (case-insensitive) when it has one, else by its MIME type
 * (parameters such as `; charset=` ignored). Null when unsupported.
 */
export function formatOf(fileName: string, mimeType?: string): SourceFormat | null {
  const ext = path.extname(fileName).toLowerCase();
  if (ext) return BY_EXTENSION[ext] ?? null;
  const mime = (mimeType ?? '').split(';')[0].trim().toLowerCase();
  return BY_MIME[mime] ?? null;
}

/** The file name without directories and extension (`docs/Refund policy.pdf` → `Refund policy`). */
export function titleFromFileName(fileName: string): string {
  const base = path.basename(fileName.replace(/\\/g, '/'));
  return base.slice(0, base.length - path.extname(base).length).trim();
}

/** Decodes UTF-8 (a BOM is dropped). @throws UnreadableDocumentError when the bytes are not valid UTF-8. */
export function decodeUtf8(data: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(data);
  } catch {
    throw new UnreadableDocumentError('file is not valid UTF-8 text');
  }
}

const HTML_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
  ],
};

/** HTML → readable text with `html-to-text` (scripts/styles dropped, links without URLs, headings not upper-cased, images skipped). */
export function htmlToPlainText(html: string): string {
  return convertHtml(html, HTML_OPTIONS);
}

/**
 * Markdown → plain text, lightly (CommonMark syntax only, no parser): code fences, heading marks, block quotes,
 * list and task markers, horizontal rules, table pipes, emphasis, inline code, images (→ alt text), links
 * (→ link text), reference definitions and inline HTML tags are removed. Headings become their own paragraph.
 */
export function markdownToPlainText(md: string): string {
  return md
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => {
      if (/^\s{0,3}(```|~~~)/.test(line)) return ''; // fence markers (the code itself is kept)
      if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) return ''; // horizontal rule
      if (/^\s{0,3}(=+|-+)\s*$/.test(line)) return ''; // setext heading underline
      if (/^\s{0,3}\[[^\]]+\]:\s*\S+/.test(line)) return ''; // reference definition
      if (/^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)+\|?\s*$/.test(line)) return ''; // table delimiter row
      const heading = /^\s{0,3}#{1,6}\s+(.*?)(\s+#+\s*)?$/.exec(line);
      if (heading) return `\n${heading[1]}\n`;
      return line
        .replace(/^\s{0,3}(>\s?)+/, '')
        .replace(/^\s*([-*+]|\d{1,9}[.)])\s+(\[[ xX]\]\s+)?/, '')
        .replace(/^\s*\|(.*)\|\s*$/, '$1')
        .replace(/\s*\|\s*/g, '  ');
    })
    .join('\n')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
    .replace(/<\/?[A-Za-z][^>\n]*>/g, '')
    .replace(/`+([^`\n]+)`+/g, '$1')
    .replace(/(\*\*|__)(?=\S)([^\n]*?\S)\1/g, '$2')
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?!\w)/g, '$1$2')
    .replace(/(^|[^\w])_(?=\S)([^_\n]*?\S)_(?!\w)/g, '$1$2')
    .replace(/~~(?=\S)([^\n]*?\S)~~/g, '$1')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Default bound on extracting one PDF (ms). */
export const PDF_TIMEOUT_MS = 30_000;

/**
 * Runs in a worker thread: pdf-parse v2 (`new PDFParse({ data }).getText()`, pdf.js inside) → the text of each page.
 * Plain CommonJS evaluated by Node itself, so pdf.js can `import()` its fake worker (which a host such as Jest's
 * module sandbox cannot do) and its CPU-heavy parsing never blocks the server's event loop (live call audio).
 */
const PDF_THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PDFParse } = require(workerData.pdfParsePath);
(async () => {
  const parser = new PDFParse({ data: workerData.data });
  try {
    const result = await parser.getText();
    parentPort.postMessage({ ok: true, pages: result.pages.map((p) => p.text) });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String((err && err.message) || err) });
  } finally {
    await parser.destroy().catch(() => undefined);
  }
})();
`;

/**
 * Text of a PDF with pdf-parse v2, in a worker thread (see {@link PDF_THREAD_SOURCE}) limited to 256 MB of heap and
 * `o.timeoutMs` (default {@link PDF_TIMEOUT_MS}): the pages' text, trimmed, joined by a blank line.
 * @throws UnreadableDocumentError when the bytes are not a PDF, pdf.js cannot read them, or it takes too long.
 */
export async function pdfToText(data: Uint8Array, o: { timeoutMs?: number } = {}): Promise<string> {
  if (Buffer.from(data.subarray(0, 1024)).indexOf('%PDF-') < 0) throw new UnreadableDocumentError('file is not a PDF (no %PDF- header)');
  const worker = new Worker(PDF_THREAD_SOURCE, {
    eval: true,
    workerData: { pdfParsePath: require.resolve('pdf-parse'), data: new Uint8Array(data) },
    resourceLimits: { maxOldGenerationSizeMb: 256 },
    stdout: true, // pdf.js warnings stay out of the server's log stream
    stderr: true,
  });
  const ms = o.timeoutMs ?? PDF_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    const reply = await new Promise<{ ok: true; pages: string[] } | { ok: false; error: string }>((resolve, reject) => {
      timer = setTimeout(() => reject(new UnreadableDocumentError(`reading the PDF took longer than ${ms} ms`)), ms);
      worker.once('message', resolve);
      worker.once('error', (err) => reject(new UnreadableDocumentError(`could not read the PDF: ${err.message}`.slice(0, 300))));
      worker.once('exit', (code) => reject(new UnreadableDocumentError(`could not read the PDF (parser exited with code ${code})`)));
    });
    if (!reply.ok) throw new UnreadableDocumentError(`could not read the PDF: ${reply.error}`.slice(0, 300));
    return reply.pages.map((p) => p.trim()).filter(Boolean).join('\n\n');
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}

/**
 * The plain text of a file in `format`, trimmed.
 * @throws UnreadableDocumentError (invalid UTF-8, unreadable PDF, or no text at all).
 */
export async function extractText(data: Uint8Array, format: SourceFormat): Promise<string> {
  let text: string;
  switch (format) {
    case 'txt':
      text = decodeUtf8(data);
      break;
    case 'md':
      text = markdownToPlainText(decodeUtf8(data));
      break;
    case 'html':
      text = htmlToPlainText(decodeUtf8(data));
      break;
    case 'pdf':
      text = await pdfToText(data);
      break;
  }
  text = text.replace(/\r\n?/g, '\n').trim();
  if (!text) throw new UnreadableDocumentError(`the ${format} file contains no text`);
  return text;
}
