/**
 * Contact variables in an agent's first message, prompt and voicemail message: `{{first_name}}`, `{{ order_id }}`.
 * Names are letters, digits and `_` (CSV headers are normalised to that: `First Name` → `first_name`).
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** A CSV column name as a variable name: trimmed, lower case, runs of other characters → `_` (`First Name` → `first_name`). */
export function variableName(column: string): string {
  return column
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * `text` with each `{{name}}` replaced by `variables[name]`. A variable the contact lacks becomes an empty string
 * (and the double space it leaves is collapsed), so a greeting never reads "Hello {{first_name}}" aloud.
 */
export function fillTemplate(text: string, variables: Readonly<Record<string, string>>): string {
  if (!text.includes('{{')) return text;
  return text
    .replace(PLACEHOLDER, (_m, name: string) => variables[name] ?? variables[variableName(name)] ?? '')
    .replace(/ {2,}/g, ' ')
    .replace(/ ([,.!?;:])/g, '$1')
    .trim();
}

/** The variable names `text` uses. */
export function templateVariables(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}
