import { z } from 'zod';
import { cleanText } from '../events/description.js';
import { isCalendarDate, isKnownTimeZone } from '../events/time.js';
import { listItemSchemas } from './payload-shape.js';

/**
 * Loose field schemas shared by the source schemas. Required fields fail with a reason (the
 * event is skipped); optional fields that arrive malformed become null instead of sinking the
 * whole event, because senders disagree with their own documentation.
 */

const MAX_TEXT = 100_000;

/** Trimmed text with XML-illegal characters removed; empty becomes null. */
export const optionalText = z
  .unknown()
  .optional()
  .transform((value): string | null => {
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value !== 'string') return null;
    const text = cleanText(value).trim();
    return text.length === 0 ? null : text.slice(0, MAX_TEXT);
  });

/** Required non-empty text (at most 1,000 characters: titles, names). */
export const requiredText = z
  .string({ error: 'must be text' })
  .transform((value) => cleanText(value).trim())
  .pipe(z.string().min(1, 'must not be empty').max(1000, 'is longer than 1000 characters'));

/** An identifier safe to use in URLs and ICS UIDs; numbers are accepted and stringified. */
export const externalId = z
  .union([z.string(), z.number().int().nonnegative()], { error: 'must be a string or number' })
  .transform((value) => String(value).trim())
  .pipe(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, or _ . : -'));

const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(2200, 0, 1);

/** An ISO-8601 instant with an offset or Z, between 1970 and 2200. */
export const instant = z
  .string({ error: 'must be an ISO-8601 date-time' })
  .transform((value, ctx) => {
    const trimmed = value.trim();
    const match =
      /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.exec(trimmed);
    // V8 rolls impossible days over (2027-02-30 becomes March 2): such a date is rejected, not moved.
    const date =
      match && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))
        ? new Date(trimmed)
        : new Date(Number.NaN);
    if (Number.isNaN(date.getTime()) || date.getTime() < EARLIEST || date.getTime() > LATEST) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be an ISO-8601 date-time with offset between 1970 and 2200',
      });
      return z.NEVER;
    }
    return date;
  });

export const optionalInstant = instant
  .nullish()
  .catch(null)
  .transform((value) => value ?? null);

/** An absolute http(s) URL, else null. */
export const optionalHttpUrl = z
  .unknown()
  .optional()
  .transform((value): string | null => {
    if (typeof value !== 'string') return null;
    const trimmed = value.trim();
    if (trimmed.length > 2000) return null;
    try {
      const url = new URL(trimmed.startsWith('//') ? `https:${trimmed}` : trimmed);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : null;
    } catch {
      return null;
    }
  });

/** A list of short texts; non-text items are dropped, duplicates removed. */
export const textList = z
  .unknown()
  .optional()
  .transform((value): string[] => {
    const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
    const out = new Set<string>();
    for (const item of items.slice(0, 100)) {
      if (typeof item !== 'string' && typeof item !== 'number') continue;
      const text = cleanText(String(item)).trim();
      if (text.length > 0 && text.length <= 100) out.add(text);
    }
    return [...out];
  });

/** true, "true", 1, "1", "yes" are true; anything else false. */
export const looseBoolean = z
  .unknown()
  .optional()
  .transform(
    (value) =>
      value === true ||
      value === 1 ||
      (typeof value === 'string' && /^(true|1|yes)$/i.test(value.trim())),
  );

/** A finite number, also from a numeric string; else null. */
export const looseNumber = z
  .unknown()
  .optional()
  .transform((value): number | null => {
    const number =
      typeof value === 'string' && value.trim() !== '' ? Number(value.replace(',', '.')) : value;
    return typeof number === 'number' && Number.isFinite(number) ? number : null;
  });

/** A latitude or longitude within range, else null. */
export const coordinate = (limit: number) =>
  looseNumber.transform((value) => (value !== null && Math.abs(value) <= limit ? value : null));

/** An IANA time zone this runtime knows, else null. */
export const optionalTimeZone = z
  .unknown()
  .optional()
  .transform((value) =>
    typeof value === 'string' && value.length < 64 && isKnownTimeZone(value) ? value : null,
  );

/** A list whose unreadable items are dropped rather than failing the event. */
export const listOf = <T extends z.ZodTypeAny>(item: T) => {
  const list = z
    .array(z.unknown())
    .nullish()
    .catch(null)
    .transform((items) =>
      (items ?? []).flatMap((entry) => {
        const parsed = item.safeParse(entry);
        return parsed.success ? [parsed.data as z.output<T>] : [];
      }),
    );
  // The array reads `unknown` items: the schema watch learns their keys from here.
  listItemSchemas.set(list, item);
  return list;
};

/** Turns a zod error into one line naming the fields: "startsAt: must be …; name: must be text". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || 'event'}: ${issue.message}`)
    .join('; ');
}

/** A plain JSON object (not an array, not null), else null. */
export function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/**
 * The JSON text of a payload value, or null when it nests too deeply to be written: the parser
 * reads any depth, but `JSON.stringify` recurses and a hostile payload can outgrow the stack.
 */
export function jsonTextOf(value: unknown): string | null {
  try {
    return JSON.stringify(value) ?? null;
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}
