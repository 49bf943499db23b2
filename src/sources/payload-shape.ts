import { z } from 'zod';

/**
 * The keys an adapter reads, as a tree derived from its zod schemas, and the walk that finds
 * what a payload holds beyond them (the schema watch). A path names a key from the payload's
 * root with array indexes collapsed: `messageContent.events[].location.geo.alt`.
 */

/** One place in a payload: the keys read when it is an object, the items' shape when an array. */
export interface PayloadShape {
  /** The path of this place, `''` at the root. */
  path: string;
  /** Keys read when the value is an object; null when no key is read (a scalar is expected). */
  fields: Map<string, PayloadShape> | null;
  /** The shape of each item when the value is an array; null when no item is read as such. */
  items: PayloadShape | null;
  /** True where the adapter deliberately reads nothing below (private data it never republishes). */
  ignored: boolean;
}

class ListOverride {
  constructor(readonly item: ShapeOverride) {}
}

class IgnoredOverride {}

class SchemaOverride {
  constructor(
    readonly schema: z.ZodType,
    readonly overrides: ShapeOverrides,
  ) {}
}

/** An override: what `schema` reads, with overrides of its own children. */
export const readBy = (schema: z.ZodType, overrides: ShapeOverrides) =>
  new SchemaOverride(schema, overrides);

/** An override: a list whose items have the given shape. */
export const listShape = (item: ShapeOverride) => new ListOverride(item);

/** An override: a subtree the adapter deliberately never reads (private data); not reported. */
export const IGNORED = new IgnoredOverride();

/** What stands in for a child's derived shape: another schema, a list, an ignored subtree, or keys. */
export type ShapeOverride =
  z.ZodType | SchemaOverride | ListOverride | IgnoredOverride | ShapeOverrides;

/** Children whose shape the schema does not carry (a field read as `unknown` and parsed later). */
export interface ShapeOverrides {
  [key: string]: ShapeOverride;
}

/** The item schema of each `listOf` list (sources/fields.ts), whose array itself reads `unknown`. */
export const listItemSchemas = new WeakMap<object, z.ZodType>();

const joinPath = (parent: string, key: string) => (parent === '' ? key : `${parent}.${key}`);

function emptyShape(path: string): PayloadShape {
  return { path, fields: null, items: null, ignored: false };
}

/** Merges what `from` reads into `into` (a union reads what each of its options reads). */
function mergeShape(into: PayloadShape, from: PayloadShape): void {
  into.ignored ||= from.ignored;
  if (from.fields) {
    into.fields ??= new Map();
    for (const [key, child] of from.fields) {
      const existing = into.fields.get(key);
      if (existing) mergeShape(existing, child);
      else into.fields.set(key, child);
    }
  }
  if (from.items) {
    if (into.items) mergeShape(into.items, from.items);
    else into.items = from.items;
  }
}

function shapeOfSchema(schema: z.ZodType, path: string): PayloadShape {
  const shape = emptyShape(path);
  const item = listItemSchemas.get(schema);
  if (item) {
    shape.items = shapeOfSchema(item, `${path}[]`);
    return shape;
  }
  const def = (schema as z.core.$ZodType)._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'object': {
      shape.fields = new Map();
      for (const [key, child] of Object.entries(def.shape as Record<string, z.ZodType>)) {
        shape.fields.set(key, shapeOfSchema(child, joinPath(path, key)));
      }
      return shape;
    }
    case 'array':
      shape.items = shapeOfSchema(def.element as z.ZodType, `${path}[]`);
      return shape;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return shapeOfSchema(def.innerType as z.ZodType, path);
    case 'pipe': {
      // A transform is a pipe into a ZodTransform: the input side is what the payload holds.
      mergeShape(shape, shapeOfSchema(def.in as z.ZodType, path));
      mergeShape(shape, shapeOfSchema(def.out as z.ZodType, path));
      return shape;
    }
    case 'union':
      for (const option of def.options as z.ZodType[]) {
        mergeShape(shape, shapeOfSchema(option, path));
      }
      return shape;
    case 'intersection':
      mergeShape(shape, shapeOfSchema(def.left as z.ZodType, path));
      mergeShape(shape, shapeOfSchema(def.right as z.ZodType, path));
      return shape;
    case 'lazy':
      return shapeOfSchema((def.getter as () => z.ZodType)(), path);
    default:
      // Scalars, `unknown` and transforms: no key below is read.
      return shape;
  }
}

function applyOverride(override: ShapeOverride, path: string): PayloadShape {
  if (override instanceof z.ZodType) return shapeOfSchema(override, path);
  if (override instanceof SchemaOverride) {
    return withOverrides(shapeOfSchema(override.schema, path), override.overrides);
  }
  if (override instanceof IgnoredOverride) return { ...emptyShape(path), ignored: true };
  const shape = emptyShape(path);
  if (override instanceof ListOverride) {
    shape.items = applyOverride(override.item, `${path}[]`);
    return shape;
  }
  shape.fields = new Map();
  for (const [key, child] of Object.entries(override)) {
    shape.fields.set(key, applyOverride(child, joinPath(path, key)));
  }
  return shape;
}

function withOverrides(shape: PayloadShape, overrides: ShapeOverrides): PayloadShape {
  shape.fields ??= new Map();
  for (const [key, override] of Object.entries(overrides)) {
    shape.fields.set(key, applyOverride(override, joinPath(shape.path, key)));
  }
  return shape;
}

/**
 * The keys `schema` reads, from a payload's root; `overrides` give the shape of children the
 * schema reads as `unknown` (an envelope's content, parsed by another schema) or declares
 * ignored.
 */
export function shapeOf(schema: z.ZodType, overrides: ShapeOverrides = {}): PayloadShape {
  return withOverrides(shapeOfSchema(schema, ''), overrides);
}

/** Every key of several shapes of one payload (a source with more than one form). */
export function shapeOfAny(...shapes: PayloadShape[]): PayloadShape {
  const merged = emptyShape('');
  for (const shape of shapes) mergeShape(merged, shape);
  return merged;
}

/** Distinct unread paths one payload may add at most: keys named by data (ids) cannot flood. */
export const MAX_PATHS_PER_PAYLOAD = 200;
const MAX_DEPTH = 24;
const MAX_KEY_LENGTH = 100;

/** Counts of unread paths in one payload. */
export type PathCounts = Map<string, number>;

function count(into: PathCounts, path: string): void {
  const seen = into.get(path);
  if (seen !== undefined) into.set(path, seen + 1);
  else if (into.size < MAX_PATHS_PER_PAYLOAD) into.set(path, 1);
}

const keyOf = (key: string) => (key.length > MAX_KEY_LENGTH ? key.slice(0, MAX_KEY_LENGTH) : key);

/**
 * The path of `key` below `parent`, the same string each time: an event list repeats the same
 * unread keys thousands of times, and a reused string keeps its hash for the counting map.
 */
class PathNames {
  private readonly children = new Map<string, Map<string, string>>();
  private readonly items = new Map<string, string>();

  /** The path of an object's key. */
  of(parent: string, key: string): string {
    let names = this.children.get(parent);
    if (!names) this.children.set(parent, (names = new Map()));
    let name = names.get(key);
    if (name === undefined) names.set(key, (name = joinPath(parent, keyOf(key))));
    return name;
  }

  /** The path of an array's items. */
  itemsOf(parent: string): string {
    let name = this.items.get(parent);
    if (name === undefined) this.items.set(parent, (name = `${parent}[]`));
    return name;
  }
}

/** Counts every key below `value`, none of which is read. */
function countUnread(
  value: unknown,
  path: string,
  into: PathCounts,
  names: PathNames,
  depth: number,
): void {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    const itemPath = names.itemsOf(path);
    for (const item of value) countUnread(item, itemPath, into, names, depth + 1);
    return;
  }
  for (const key in value) {
    const childPath = names.of(path, key);
    count(into, childPath);
    countUnread((value as Record<string, unknown>)[key], childPath, into, names, depth + 1);
  }
}

function walk(
  value: unknown,
  shape: PayloadShape,
  into: PathCounts,
  names: PathNames,
  depth: number,
): void {
  if (shape.ignored || depth > MAX_DEPTH || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    if (shape.items) {
      for (const item of value) walk(item, shape.items, into, names, depth + 1);
    } else {
      countUnread(value, shape.path, into, names, depth);
    }
    return;
  }
  const { fields } = shape;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    const known = fields?.get(key);
    if (known) {
      // Scalars dominate payloads: only objects and arrays are walked further.
      if (typeof child === 'object' && child !== null) walk(child, known, into, names, depth + 1);
    } else {
      const childPath = names.of(shape.path, key);
      count(into, childPath);
      countUnread(child, childPath, into, names, depth + 1);
    }
  }
}

/** Adds to `into` every key path of `payload` that `shape` does not read, with how often it occurs. */
export function countUnreadPaths(payload: unknown, shape: PayloadShape, into: PathCounts): void {
  walk(payload, shape, into, new PathNames(), 0);
}

/** True when `shape` reads `path` (or lies in a subtree it deliberately ignores). */
export function readsPath(shape: PayloadShape, path: string): boolean {
  let current: PayloadShape | null = shape;
  for (const segment of path.split('.')) {
    if (!current) return false;
    if (current.ignored) return true;
    const match = /^(.*?)((?:\[\])*)$/.exec(segment);
    const key = match?.[1] ?? segment;
    const depth = (match?.[2]?.length ?? 0) / 2;
    // A path may start at an array item (`[]` at the root of a bare list).
    if (key !== '') current = current.fields?.get(key) ?? null;
    for (let level = 0; level < depth && current; level += 1) {
      current = current.ignored ? current : current.items;
    }
  }
  return current !== null;
}
