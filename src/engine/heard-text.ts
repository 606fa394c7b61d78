/**
 * The part of `text` a caller heard when `fraction` (0..1) of its audio played: whole words only, cut at the last
 * word boundary at or before `fraction × text.length` characters (speech rate is taken as uniform over the text;
 * a TTS with word timestamps could do better). `fraction ≥ 1` → the whole text; ≤ 0 → ''.
 */
export function cutHeardText(text: string, fraction: number): string {
  return splitHeardText(text, fraction).heard;
}

/**
 * `text` split where the caller stopped hearing it (the cut of {@link cutHeardText}): `heard` and the `rest` after it,
 * both trimmed, so that `heard + ' ' + rest` is `text` trimmed (a single space where the cut fell on whitespace).
 */
export function splitHeardText(text: string, fraction: number): { heard: string; rest: string } {
  if (!(fraction > 0)) return { heard: '', rest: text.trim() };
  if (fraction >= 1) return { heard: text.trim(), rest: '' };
  const chars = Math.floor(text.length * fraction);
  // A word counts as heard when the cut falls at or after its end.
  const head = text.slice(0, chars + 1);
  const m = /^(.*\S)\s/s.exec(head);
  const at = m ? m[1].length : 0;
  return { heard: text.slice(0, at).trim(), rest: text.slice(at).trim() };
}
