import { createHash } from 'node:crypto';
import { DigestInvalidError } from '../errors.js';

// Only algorithms we can verify while streaming; anything else is rejected as input.
const HEX_LENGTH = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof HEX_LENGTH;

/** A validated `algorithm:hex` string. Safe to use as a path component after `digestPath`. */
export type Digest = string & { readonly __digest: unique symbol };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const MAX_SHOWN = 80;

function shown(value: string): string {
  const printable = JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value);
  return printable;
}

export function parseDigest(value: unknown, what = 'digest'): ParsedDigest {
  if (typeof value !== 'string') throw new DigestInvalidError(`invalid ${what}: not a string`);
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (colon < 0 || !Object.hasOwn(HEX_LENGTH, algorithm)) {
    throw new DigestInvalidError(`invalid ${what} ${shown(value)}: algorithm must be sha256 or sha512`);
  }
  const length = HEX_LENGTH[algorithm as DigestAlgorithm];
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    throw new DigestInvalidError(
      `invalid ${what} ${shown(value)}: expected ${length} lowercase hex characters after "${algorithm}:"`,
    );
  }
  return { algorithm: algorithm as DigestAlgorithm, hex };
}

export function asDigest(value: unknown, what = 'digest'): Digest {
  parseDigest(value, what);
  return value as Digest;
}

export function isDigest(value: unknown): value is Digest {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function makeDigest(algorithm: DigestAlgorithm, hex: string): Digest {
  return asDigest(`${algorithm}:${hex}`);
}

/** `sha256/<hex>`: the relative path form used by the store and the tree. */
export function digestPath(digest: Digest): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}/${hex}`;
}

/** The sha256 digest of `bytes` (content-addressed files: manifests' bytes, repository files). */
export function sha256Digest(bytes: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}
