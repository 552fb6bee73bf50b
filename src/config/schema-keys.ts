import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';

// For "did you mean": the keys a strict object schema accepts at a path of the parsed value.
// zod reports an unknown key with the object's path only, so the schema is walked to that object.

interface LooseDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: readonly z.core.$ZodType[];
  values?: readonly unknown[];
}

const defOf = (schema: z.core.$ZodType) => schema._zod.def as unknown as LooseDef;

/** The object schemas `schema` may be at `value` (a union offers the options whose literals match). */
function objectsAt(schema: z.core.$ZodType, value: unknown): LooseDef[] {
  const def = defOf(schema);
  if (def.type === 'object') return [def];
  const inner = def.innerType ?? def.in;
  if (inner) return objectsAt(inner, value);
  if (def.type === 'union' && def.options) {
    const all = def.options.flatMap((option) => objectsAt(option, value));
    const matching = all.filter((object) => literalsMatch(object, value));
    return matching.length ? matching : all;
  }
  return [];
}

function literalsMatch(object: LooseDef, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(object.shape ?? {}).every(([key, field]) => {
    const def = defOf(field);
    return def.type !== 'literal' || (def.values ?? []).includes((value as Record<string, unknown>)[key]);
  });
}

function childSchema(schema: z.core.$ZodType, key: PropertyKey, value: unknown): z.core.$ZodType | undefined {
  const def = defOf(schema);
  if (def.type === 'array') return def.element;
  if (def.type === 'record') return def.valueType;
  const inner = def.innerType ?? def.in;
  if (inner) return childSchema(inner, key, value);
  return objectsAt(schema, value)
    .map((object) => object.shape?.[String(key)])
    .find((field) => field !== undefined);
}

/** The keys the schema accepts for the object at `path` in `root` (the parsed YAML). */
export function knownKeysAt(schema: z.core.$ZodType, root: unknown, path: readonly PropertyKey[]): string[] {
  let current: z.core.$ZodType | undefined = schema;
  let value = root;
  for (const key of path) {
    if (!current) return [];
    current = childSchema(current, key, value);
    value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  }
  return current ? [...new Set(objectsAt(current, value).flatMap((object) => Object.keys(object.shape ?? {})))] : [];
}

/** The known key an unknown one is most likely a typo of: at most a third of its letters off. */
export function nearestKey(unknown: string, known: readonly string[]): string | undefined {
  if (!known.length) return undefined;
  const best = closest(unknown, known as string[]);
  return distance(unknown.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(unknown.length / 3))
    ? best
    : undefined;
}
