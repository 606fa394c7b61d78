/**
 * Splits streamed LLM text into speakable segments as soon as they are complete, so TTS can start on the first
 * sentence while the rest is still being generated. A segment ends at sentence punctuation (. ! ? and their CJK /
 * Spanish forms) followed by whitespace, or at a clause break (, ; :) once the segment is at least
 * `minClauseChars` long. Abbreviations like "Mr." or "e.g." do not end a sentence.
 */
export class SentenceChunker {
  private buf = '';
  constructor(private readonly minClauseChars = 60) {}

  /** Adds a text delta; returns the segments completed by it (trimmed, non-empty). */
  push(delta: string): string[] {
    this.buf += delta;
    const out: string[] = [];
    for (;;) {
      const cut = this.findCut();
      if (cut < 0) break;
      const seg = this.buf.slice(0, cut).trim();
      this.buf = this.buf.slice(cut);
      if (seg) out.push(seg);
    }
    return out;
  }

  /** The text pushed and not yet returned as a segment (the sentence still being written), trimmed; '' when none. */
  get pending(): string {
    return this.buf.trim();
  }

  /** Returns whatever is left at the end of the stream. */
  flush(): string[] {
    const seg = this.buf.trim();
    this.buf = '';
    return seg ? [seg] : [];
  }

  private findCut(): number {
    const re = /([.!?。！？]+["')\]]*)(\s+)|([,;:])(\s+)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(this.buf))) {
      const end = m.index + m[0].length;
      if (m[1]) {
        const before = this.buf.slice(0, m.index);
        const lastWord = before.split(/\s+/).pop() ?? '';
        if (m[1] === '.' && ABBREVIATIONS.has(lastWord.toLowerCase())) continue;
        if (m[1] === '.' && /^\d+$/.test(lastWord) && /^\s*\d/.test(this.buf.slice(end))) continue;
        return end;
      }
      if (m.index + 1 >= this.minClauseChars) return end;
    }
    return -1;
  }
}

const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'st', 'e.g', 'i.e', 'etc', 'vs', 'no', 'sr', 'jr', 'approx']);
