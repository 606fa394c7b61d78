import { francAll } from 'franc';
import { iso3to1 } from '../domain/languages';

/** Fewer characters than this are not worth guessing from. */
const MIN_CHARS = 20;

/**
 * The ISO 639-1 language of a knowledge document's text, guessed with franc (trigram statistics over its first
 * 2 048 characters): the best-ranked language that {@link iso3to1} can map, preferring `o.prefer` (e.g. the agent's
 * languages) when franc ranks one of them within 5 % of its best guess — close relatives (Spanish / Galician /
 * Asturian) score alike on short texts. Undefined when the text is shorter than 20 characters or nothing maps.
 */
export function detectDocumentLanguage(text: string, o: { prefer?: string[] } = {}): string | undefined {
  const sample = text.replace(/\s+/g, ' ').trim();
  if (sample.length < MIN_CHARS) return undefined;
  const ranked = francAll(sample, { minLength: MIN_CHARS }).flatMap(([code, score]) => {
    const iso1 = iso3to1(code);
    return iso1 ? [{ iso1, score }] : [];
  });
  if (!ranked.length) return undefined;
  const best = ranked[0];
  const preferred = o.prefer?.length ? ranked.find((r) => o.prefer!.includes(r.iso1) && r.score >= best.score * 0.95) : undefined;
  return (preferred ?? best).iso1;
}
