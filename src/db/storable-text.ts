/**
 * Text as both dialects store it alike. Senders' words reach the database (error messages and
 * message types quoting them, schema-watch keys): PostgreSQL refuses NUL in a text column, which
 * would fail the whole processing transaction again and again, and writes a lone surrogate as
 * U+FFFD where SQLite keeps it. Both become U+FFFD here, so a value reads back as written.
 */
export function storableText<T extends string | null>(text: T): T {
  return (text?.replaceAll('\0', '\uFFFD').toWellFormed() ?? null) as T;
}
