import { DigestInvalidError, NameInvalidError, TagInvalidError } from '../errors.js';
import { isDigest, type Digest } from './digest.js';

// distribution/reference grammar. A component never starts with `_` or `.`, which is what makes
// `_blobs` in the tree safe from colliding with any repository name.
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
export const MAX_REPOSITORY_LENGTH = 255;

function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

export function isRepositoryName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= MAX_REPOSITORY_LENGTH &&
    name.split('/').every((component) => COMPONENT.test(component))
  );
}

export function assertRepositoryName(name: unknown, what = 'repository name'): string {
  if (!isRepositoryName(name)) {
    const value = typeof name === 'string' ? shown(name) : String(name);
    throw new NameInvalidError(
      `invalid ${what} ${value}: expected lowercase components [a-z0-9] joined by "/", "." "_" "__" or "-" inside, at most ${MAX_REPOSITORY_LENGTH} characters`,
    );
  }
  return name;
}

export function isTag(tag: unknown): tag is string {
  return typeof tag === 'string' && TAG.test(tag);
}

export function assertTag(tag: unknown, what = 'tag'): string {
  if (!isTag(tag)) {
    const value = typeof tag === 'string' ? shown(tag) : String(tag);
    throw new TagInvalidError(`invalid ${what} ${value}: expected [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`);
  }
  return tag;
}

export interface Reference {
  repository: string;
  tag?: string;
  digest?: Digest;
}

/** `repo[:tag][@digest]` without a registry host (blobmirror always knows its source). */
export function parseReference(value: string): Reference {
  let rest = value;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw new DigestInvalidError(`invalid digest in reference ${shown(value)}`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = assertTag(rest.slice(colon + 1), `tag in reference ${shown(value)}`);
    rest = rest.slice(0, colon);
  }
  const repository = assertRepositoryName(rest, `repository in reference ${shown(value)}`);
  return { repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}
