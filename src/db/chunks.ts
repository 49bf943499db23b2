/**
 * Statements over many rows are cut into parts, because each dialect caps the parameters one
 * statement may bind: SQLite at 32766, PostgreSQL at 65535.
 */

/** Parameters bound by one insert: well below either cap. */
const INSERT_PARAMETERS = 8_000;

/** Values in one `in (...)` list. */
const IN_LIST_VALUES = 400;

/** Splits `items` into parts of `size` (by default, what one `in (...)` list holds). */
export function chunks<T>(items: readonly T[], size = IN_LIST_VALUES): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size)
    out.push(items.slice(index, index + size));
  return out;
}

/** How many rows of `columns` columns one insert may hold. */
export function rowsPerInsert(columns: number): number {
  return Math.floor(INSERT_PARAMETERS / columns);
}
