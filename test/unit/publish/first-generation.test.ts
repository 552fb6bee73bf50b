import { describe, expect, it } from 'vitest';
import {
  carryFirstGenerations,
  firstGenerationOf,
  stampFirstGenerations,
} from '../../../src/publish/first-generation.js';
import type { BlobEntry, RepositoryMetadata } from '../../../src/publish/metadata-types.js';

const A = 'sha256:' + 'a'.repeat(64);
const B = 'sha256:' + 'b'.repeat(64);

function repo(blobs: Record<string, BlobEntry>): RepositoryMetadata {
  return { formatVersion: 1, name: 'r', syncedAt: 't', tags: {}, manifests: {}, blobs, history: {} };
}
const at = (path: string, modules: string[]): BlobEntry => ({
  size: 1,
  path,
  modules: Object.fromEntries(modules.map((m) => [m, `${m}/${path}`])),
});

describe('first generation per blob and module', () => {
  it('a blob kept at its path keeps its first generation; a new one gets the published generation', () => {
    const before = stampFirstGenerations(repo({ [A]: at('a', ['x']) }), '0000000003');
    const built = repo({ [A]: at('a', ['x']), [B]: at('b', ['x']) });
    const published = stampFirstGenerations(carryFirstGenerations(built, before), '0000000004');
    expect(published.blobs[A]!.firstGeneration).toEqual({ x: '0000000003' });
    expect(published.blobs[B]!.firstGeneration).toEqual({ x: '0000000004' });
  });

  it('a blob that joins another module is new in that module only', () => {
    const before = stampFirstGenerations(repo({ [A]: at('a', ['x']) }), '0000000003');
    const published = stampFirstGenerations(
      carryFirstGenerations(repo({ [A]: at('a', ['x', 'y']) }), before),
      '0000000005',
    );
    expect(published.blobs[A]!.firstGeneration).toEqual({ x: '0000000003', y: '0000000005' });
  });

  it('an unchanged repository carries to exactly what was published (a no-op sync stays a no-op)', () => {
    const before = stampFirstGenerations(repo({ [A]: at('a', ['x']) }), '0000000003');
    expect(JSON.stringify(carryFirstGenerations(repo({ [A]: at('a', ['x']) }), before))).toBe(JSON.stringify(before));
  });

  it('metadata without first generations counts each blob as new in the generation read', () => {
    expect(firstGenerationOf(at('a', ['x']), 'x', '0000000007')).toBe(7);
    expect(firstGenerationOf({ firstGeneration: { x: '0000000002' } }, 'x', '0000000007')).toBe(2);
  });
});
