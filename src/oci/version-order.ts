// PURE: order tags by version, newest last, for `tags.keepNewest`.
//
// Segments are runs of digits or letters (other characters separate them, as in rpmvercmp):
// digits compare numerically, letters lexically, and a number beats letters (so `1.0-p5-19026_2`
// and `{version}-{release}` order naturally). Pre-release words (alpha, beta, rc, pre, dev, …)
// sort before the release they precede, as semver and rpm's `~` do.

const PRERELEASE = /^(?:alpha|beta|rc|pre|preview|dev|snapshot)$/i;

/** Tags that start with a number (optionally after `v`) are versions; `latest` is not. */
export function isVersionTag(tag: string): boolean {
  return /^v?\d/.test(tag);
}

function segments(tag: string): string[] {
  return tag.replace(/^v(?=\d)/, '').match(/\d+|[A-Za-z]+/g) ?? [];
}

function compareNumbers(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  return x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0;
}

/** Negative when `a` is older than `b`. Ties fall back to plain string order (stable). */
export function compareVersions(a: string, b: string): number {
  const left = segments(a);
  const right = segments(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i];
    const y = right[i];
    if (x === undefined) return y !== undefined && PRERELEASE.test(y) ? 1 : -1;
    if (y === undefined) return PRERELEASE.test(x) ? -1 : 1;
    const xNum = /^\d/.test(x);
    const yNum = /^\d/.test(y);
    if (xNum && yNum) {
      const c = compareNumbers(x, y);
      if (c !== 0) return c;
    } else if (xNum !== yNum) {
      // A pre-release word is older than any number; otherwise a number is newer than letters.
      if (PRERELEASE.test(xNum ? y : x)) return xNum ? 1 : -1;
      return xNum ? 1 : -1;
    } else if (x !== y) {
      // A pre-release word is older than any other word (`1.0-rc1` < `1.0` < `1.0-alpine`).
      const xPre = PRERELEASE.test(x);
      if (xPre !== PRERELEASE.test(y)) return xPre ? -1 : 1;
      return x < y ? -1 : 1;
    }
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
