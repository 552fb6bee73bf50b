// PURE: which tree links gc removes now, and which wait out the grace period.

export interface TreeGcInput {
  now: Date;
  graceMs: number;
  /** Tree-relative paths any kept generation references: never removed. */
  referenced: ReadonlySet<string>;
  /** Tree-relative blob paths on disk. */
  present: readonly string[];
  /** Unreferenced paths seen by earlier runs -> when first seen unreferenced (ISO). */
  pending: Readonly<Record<string, string>>;
}

export interface TreeGcPlan {
  remove: string[];
  /** Still in their grace period, for the next run. */
  pending: Record<string, string>;
}

/**
 * A link no kept generation references is removed once it has been unreferenced for the grace
 * period (mirrors and clients still hold older metadata). A path referenced again is forgotten.
 */
export function planTreeGc(input: TreeGcInput): TreeGcPlan {
  const plan: TreeGcPlan = { remove: [], pending: {} };
  const now = input.now.getTime();
  for (const file of [...input.present].sort()) {
    if (input.referenced.has(file)) continue;
    const since = input.pending[file] ?? input.now.toISOString();
    if (now - Date.parse(since) >= input.graceMs) plan.remove.push(file);
    else plan.pending[file] = since;
  }
  return plan;
}

/** Tree paths of blobs look like `[<arch>/]<repository>/_blobs/<alg>/<hex>`. */
export function isBlobPath(relative: string): boolean {
  return /(?:^|\/)_blobs\/(?:sha256\/[0-9a-f]{64}|sha512\/[0-9a-f]{128})$/.test(relative);
}
