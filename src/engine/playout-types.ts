/** Shapes of the playout ledger (see playout.ts). Sizes in 8 kHz mu-law bytes: 8 per ms. */

export interface SegmentResult {
  /** Clock time (ms) when the first audio byte of the segment was sent, or null if none was. */
  firstAudioAt: number | null;
  /** mu-law bytes of the segment (8000 bytes = 1 s). */
  bytes: number;
  aborted: boolean;
}

/** What the caller heard of the current utterance (see {@link Playout.heard}). */
export interface HeardSpeech {
  /** Text of the segments whose marks came back, plus the heard words of the segment that was playing. */
  text: string;
  /** True when every segment played to its mark. */
  complete: boolean;
  /**
   * The utterance's text after `text` that the caller did not hear: the rest of the segment that was playing and the
   * segments sent or being synthesized after it (trimmed, joined by single spaces); '' when `complete`.
   */
  unheard: string;
  /** mu-law bytes played (8 per ms). */
  bytes: number;
}

/** 8 kHz mu-law: one byte per sample, 8 bytes per ms. */
export const MULAW_BYTES_PER_MS = 8;

/** One segment of the utterance ledger (see Playout). */
export interface LedgerSegment {
  text: string;
  mark: string;
  /** Offsets in the utterance's audio (bytes). endByte is null while the segment is still streaming. */
  startByte: number;
  endByte: number | null;
  markSent: boolean;
  played: boolean;
}
