/**
 * The part of `text` a caller heard when `fraction` (0..1) of its audio played: whole words only, cut at the last
 * word boundary at or before `fraction × text.length` characters (speech rate is taken as uniform over the text;
 * a TTS with word timestamps could do better). `fraction ≥ 1` → the whole text; ≤ 0 → ''.
 */
export function cutHeardText(text: string, fraction: number): string {
  if (!(fraction > 0)) return '';
  if (fraction >= 1) return text.trim();
  const chars = Math.floor(text.length * fraction);
  // A word counts as heard when the cut falls at or after its end.
  const head = text.slice(0, chars + 1);
  const m = /^(.*\S)\s/s.exec(head);
  return m ? m[1].trim() : '';
}
