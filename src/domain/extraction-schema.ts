import { z } from 'zod';

/**
 * An agent's extraction schema (issue 13 §4, column `agents.extraction_schema`): the fields post-call analysis pulls
 * out of each of its calls, as a deliberately small subset of JSON Schema —
 * `{ type: 'object', properties: { <name>: { type: 'string'|'number'|'integer'|'boolean', description?, enum?, format? } } }`.
 * Only flat, simple-typed properties: that is what OpenAI strict structured output and the offline extractor both
 * handle. `format` (strings only): `date-time`, `date`, `time`, `email`, `phone`.
 */

/** Formats a string property may declare. `phone` is ours (E.164-ish digits), the others are JSON Schema's. */
export const EXTRACTION_FORMATS = ['date-time', 'date', 'time', 'email', 'phone'] as const;
export type ExtractionFormat = (typeof EXTRACTION_FORMATS)[number];

/** At most this many properties per schema. */
export const MAX_EXTRACTION_PROPERTIES = 30;

const propertySchema = z
  .object({
    type: z.enum(['string', 'number', 'integer', 'boolean'], { error: "type must be one of 'string', 'number', 'integer', 'boolean'" }),
    description: z.string().max(500).optional(),
    enum: z.array(z.union([z.string().min(1).max(100), z.number()])).min(1).max(50).optional(),
    format: z.enum(EXTRACTION_FORMATS, { error: `format must be one of ${EXTRACTION_FORMATS.join(', ')}` }).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.format && p.type !== 'string') ctx.addIssue({ code: 'custom', message: 'format is only allowed on string properties', path: ['format'] });
    if (p.enum && p.type === 'boolean') ctx.addIssue({ code: 'custom', message: 'enum is not allowed on boolean properties', path: ['enum'] });
    if (p.enum && p.enum.some((v) => (p.type === 'string' ? typeof v !== 'string' : typeof v !== 'number' || (p.type === 'integer' && !Number.isInteger(v))))) {
      ctx.addIssue({ code: 'custom', message: `every enum value must be of type ${p.type}`, path: ['enum'] });
    }
  });

/** A property name: also a JSON key OpenAI structured output accepts. */
const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** zod schema of an extraction schema (API input and stored value). */
export const extractionSchemaSchema = z
  .object({
    type: z.literal('object', { error: "type must be 'object'" }),
    properties: z
      .record(z.string(), propertySchema)
      .superRefine((p, ctx) => {
        for (const name of Object.keys(p)) {
          if (!PROPERTY_NAME.test(name)) ctx.addIssue({ code: 'custom', message: 'property names must be 1-64 letters, digits or _ and not start with a digit', path: [name] });
        }
      })
      .refine((p) => Object.keys(p).length >= 1, 'properties must list at least one field')
      .refine((p) => Object.keys(p).length <= MAX_EXTRACTION_PROPERTIES, `at most ${MAX_EXTRACTION_PROPERTIES} properties`),
    required: z.array(z.string()).optional(),
    description: z.string().max(500).optional(),
  })
  .strict();
export type ExtractionSchema = z.infer<typeof extractionSchemaSchema>;
export type ExtractionProperty = ExtractionSchema['properties'][string];

/** Extracted values: property name → value of its type (invalid or absent fields are left out). */
export type ExtractedFields = Record<string, string | number | boolean>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9]{7,15}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/;

/** Whether `v` is a valid value of property `p` (type, enum, format). */
export function isValidFieldValue(p: ExtractionProperty, v: unknown): boolean {
  switch (p.type) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v) || (p.type === 'integer' && !Number.isInteger(v))) return false;
      return !p.enum || p.enum.includes(v);
    case 'string': {
      if (typeof v !== 'string' || !v.trim() || v.length > 500) return false;
      if (p.enum && !p.enum.includes(v)) return false;
      switch (p.format) {
        case 'date-time':
          return /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
        case 'date':
          return DATE.test(v) && !Number.isNaN(Date.parse(v));
        case 'time':
          return TIME.test(v);
        case 'email':
          return EMAIL.test(v);
        case 'phone':
          return PHONE.test(v.replace(/[\s().-]/g, ''));
        default:
          return true;
      }
    }
  }
}

/**
 * Keeps only the fields of `fields` that the schema declares and whose value is valid ({@link isValidFieldValue});
 * `null`/`undefined` (not found) and unknown names are dropped.
 * @returns the valid fields and the names dropped as invalid (not counting nulls).
 */
export function validateExtractedFields(schema: ExtractionSchema, fields: Record<string, unknown>): { fields: ExtractedFields; dropped: string[] } {
  const out: ExtractedFields = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === null || value === undefined) continue;
    const p = schema.properties[name];
    if (p && isValidFieldValue(p, value)) out[name] = value as string | number | boolean;
    else dropped.push(name);
  }
  return { fields: out, dropped };
}

/** Parses a stored or submitted value: the schema, or null when absent or invalid (a stored value is trusted less than none). */
export function parseExtractionSchema(v: unknown): ExtractionSchema | null {
  if (v == null) return null;
  const r = extractionSchemaSchema.safeParse(v);
  return r.success ? r.data : null;
}
