import type { Mirror } from '../../../mirror-list/mirrors.js';

// PURE: the mirrors page's data, also served as /api/mirrors. What the mirror list says about
// each mirror, what the mirror checker last saw (mirror-state.json, when a checker runs), and
// which share of this serve process's blob redirects went to it.

export type MirrorListEntry = Mirror;

/** One module of one mirror as the checker saw it (docs/formats.md, "Mirror state"). */
export interface ModuleObservation {
  verifiedGeneration: string | null;
  lastCheckAt: string | null;
  lastError: { at: string; message: string } | null;
  consecutiveFailures: number;
  inRotation: boolean;
}

export interface LagSample {
  at: string;
  /** Generations behind the current one; null: never verified. */
  lag: number | null;
}

export interface MirrorView extends MirrorListEntry {
  checked: boolean;
  verifiedGeneration: string | null;
  lag: number | null;
  lastCheckAt: string | null;
  failures: number;
  inRotation: boolean;
  lastError: string | null;
  redirects: number;
  /** Share of this process's blob redirects, 0..1; null before the first redirect. */
  redirectShare: number | null;
  lagHistory: LagSample[];
}

export const MIRROR_SORT_KEYS = ['url', 'weight', 'country', 'lag', 'lastCheck', 'failures', 'share'] as const;
export type MirrorSortKey = (typeof MIRROR_SORT_KEYS)[number];

export interface MirrorsModel {
  now: string;
  currentGeneration: string | null;
  /** When the checker last wrote its state; null: no checker data (the list alone is shown). */
  checkedAt: string | null;
  stateProblem: string | null;
  sort: MirrorSortKey;
  redirectsTotal: number;
  /** Redirects that went to the master because no mirror carried the blob. */
  masterRedirects: number;
  mirrors: MirrorView[];
}

export interface MirrorsInput {
  now: Date;
  list: readonly MirrorListEntry[];
  currentGeneration: string | null;
  state: { updatedAt: string; mirrors: Record<string, { modules: Record<string, ModuleObservation> }> } | null;
  /** Why the checker's state could not be read, when it could not. */
  stateProblem?: string;
  redirects: ReadonlyMap<string, number>;
  masterRedirects: number;
  lagHistory: ReadonlyMap<string, LagSample[]>;
  sort: string;
}

/** Generations between the verified one and the current one (ids are decimal counters). */
export function generationLag(current: string | null, verified: string | null): number | null {
  if (current === null || verified === null) return null;
  return Math.max(0, Number(current) - Number(verified));
}

/** The generation every module of a mirror was verified at: the oldest; null if one never was. */
export function oldestVerified(modules: readonly ModuleObservation[]): string | null {
  const verified = modules.map((m) => m.verifiedGeneration);
  return verified.includes(null) ? null : ((verified as string[]).sort()[0] ?? null);
}

function worstModule(modules: readonly ModuleObservation[], current: string | null) {
  const oldest = oldestVerified(modules);
  const checks = modules.map((m) => m.lastCheckAt).filter((at): at is string => at !== null);
  return {
    verifiedGeneration: oldest,
    lag: generationLag(current, oldest),
    lastCheckAt: checks.sort().at(-1) ?? null,
    failures: Math.max(0, ...modules.map((m) => m.consecutiveFailures)),
    inRotation: modules.every((m) => m.inRotation),
    lastError: modules.find((m) => m.lastError)?.lastError?.message ?? null,
  };
}

const compare = (a: number | string | null, b: number | string | null, nullsLast = true): number => {
  if (a === b) return 0;
  if (a === null) return nullsLast ? 1 : -1;
  if (b === null) return nullsLast ? -1 : 1;
  return a < b ? -1 : 1;
};

// Worst first where it matters: most lag, most failures, oldest check, largest share.
const SORTS: Record<MirrorSortKey, (a: MirrorView, b: MirrorView) => number> = {
  url: (a, b) => compare(a.url, b.url),
  weight: (a, b) => b.weight - a.weight,
  country: (a, b) => compare(a.country ?? null, b.country ?? null),
  lag: (a, b) => compare(b.lag, a.lag, false),
  lastCheck: (a, b) => compare(a.lastCheckAt, b.lastCheckAt, false),
  failures: (a, b) => b.failures - a.failures,
  share: (a, b) => compare(b.redirectShare, a.redirectShare),
};

export function mirrorsModel(input: MirrorsInput): MirrorsModel {
  const sort = (MIRROR_SORT_KEYS as readonly string[]).includes(input.sort) ? (input.sort as MirrorSortKey) : 'url';
  let total = input.masterRedirects;
  for (const n of input.redirects.values()) total += n;
  const mirrors = input.list.map((entry): MirrorView => {
    const modules = Object.values(input.state?.mirrors[entry.url]?.modules ?? {});
    const seen = modules.length ? worstModule(modules, input.currentGeneration) : undefined;
    const redirects = input.redirects.get(entry.url) ?? 0;
    return {
      ...entry,
      checked: seen !== undefined,
      verifiedGeneration: seen?.verifiedGeneration ?? null,
      lag: seen?.lag ?? null,
      lastCheckAt: seen?.lastCheckAt ?? null,
      failures: seen?.failures ?? 0,
      inRotation: seen?.inRotation ?? true,
      lastError: seen?.lastError ?? null,
      redirects,
      redirectShare: total ? redirects / total : null,
      lagHistory: input.lagHistory.get(entry.url) ?? [],
    };
  });
  mirrors.sort((a, b) => SORTS[sort](a, b) || compare(a.url, b.url));
  return {
    now: input.now.toISOString(),
    currentGeneration: input.currentGeneration,
    checkedAt: input.state?.updatedAt ?? null,
    stateProblem: input.stateProblem ?? null,
    sort,
    redirectsTotal: total,
    masterRedirects: input.masterRedirects,
    mirrors,
  };
}
