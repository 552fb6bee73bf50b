// PURE: how far a mirror is behind the master, the one definition the checker's metrics and
// `blobmirror status` share: in generations, and in seconds since the master published the
// first generation the mirror is not verified at (0: up to date).

export interface MirrorLag {
  generations: number;
  seconds: number;
}

/** `verified` null (never verified) is behind every kept generation. */
export function mirrorLag(
  current: string | null,
  verified: string | null,
  createdAt: ReadonlyMap<string, number>,
  now: number,
): MirrorLag {
  const head = Number(current ?? -1);
  const at = verified === null ? -1 : Number(verified);
  const firstMissing = [...createdAt].sort(([a], [b]) => (a < b ? -1 : 1)).find(([id]) => Number(id) > at);
  return {
    generations: head < 0 ? 0 : Math.max(0, head - at),
    seconds: firstMissing && at < head ? Math.max(0, (now - firstMissing[1]) / 1000) : 0,
  };
}
