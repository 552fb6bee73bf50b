import type { MirrorStateFile } from '../freshness/mirror-state.js';
import { firstGenerationOf } from '../publish/first-generation.js';
import type { BlobEntry } from '../publish/metadata-types.js';

// PURE: may this mirror have this blob? From the checker's state file: a mirror in rotation,
// verified at generation V for a module, holds every blob whose first generation there is at
// most V. Built once per state file, so a request costs a map lookup and a comparison.

export type UncheckedPolicy = 'avoid' | 'trust';

export type Verdict = { ok: true; module: string } | { ok: false; why: 'stale' | 'out' };

interface ModuleVerdict {
  inRotation: boolean;
  /** -1: never verified. */
  verified: number;
}

export class FreshnessView {
  private readonly mirrors = new Map<string, Map<string, ModuleVerdict>>();

  constructor(
    state: MirrorStateFile | undefined,
    private readonly unchecked: UncheckedPolicy,
  ) {
    for (const [url, mirror] of Object.entries(state?.mirrors ?? {})) {
      const modules = new Map<string, ModuleVerdict>();
      for (const [name, m] of Object.entries(mirror.modules))
        modules.set(name, {
          inRotation: m.inRotation,
          verified: m.verifiedGeneration === null ? -1 : Number(m.verifiedGeneration),
        });
      this.mirrors.set(url, modules);
    }
  }

  /**
   * The first of `candidates` (modules the mirror carries that hold the blob, in preference order)
   * where the mirror is verified to have it; else why not: `out` (every candidate out of rotation)
   * or `stale` (reachable, not verified at the blob's generation).
   */
  verdict(
    mirrorUrl: string,
    blob: Pick<BlobEntry, 'firstGeneration'>,
    candidates: string[],
    generation: string,
  ): Verdict {
    const known = this.mirrors.get(mirrorUrl);
    let stale = false;
    for (const module of candidates) {
      const m = known?.get(module);
      if (!m) {
        if (this.unchecked === 'trust') return { ok: true, module };
        stale = true;
        continue;
      }
      if (!m.inRotation) continue;
      if (firstGenerationOf(blob, module, generation) <= m.verified) return { ok: true, module };
      stale = true;
    }
    return { ok: false, why: stale ? 'stale' : 'out' };
  }
}
