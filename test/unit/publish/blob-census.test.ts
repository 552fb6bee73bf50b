import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BLOB_CENSUS_FILE,
  censusOf,
  censusTotals,
  readCensus,
  updateCensus,
  writeCensus,
} from '../../../src/publish/blob-census.js';
import type { RepositoryMetadata } from '../../../src/publish/metadata-types.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** A repository holding `blobs` (digest char -> [size, architectures]) in per-architecture modules. */
function repository(name: string, blobs: Record<string, [number, string[]]>): RepositoryMetadata {
  return {
    formatVersion: 1,
    name,
    syncedAt: '2026-12-01T00:00:00.000Z',
    tags: {},
    manifests: {},
    history: {},
    blobs: Object.fromEntries(
      Object.entries(blobs).map(([c, [size, architectures]]) => {
        const modules = Object.fromEntries(
          architectures.map((a) => [`containers-${a}`, `${a}/${name}/_blobs/sha256/${c.repeat(64)}`]),
        );
        return [digest(c), { size, path: Object.values(modules)[0]!, modules }];
      }),
    ),
  };
}

const a = repository('r/a', { '1': [100, ['amd64']], '2': [10, ['amd64', 'arm64']] });
const b = repository('r/b', { '2': [10, ['amd64', 'arm64']], '3': [7, ['arm64']] });
const bNext = repository('r/b', { '1': [100, ['amd64']] });

describe('blob census', () => {
  it('counts each distinct blob once for the unique bytes and once per repository for the referenced', () => {
    expect(censusTotals(censusOf('0000000001', [a, b]), 4)).toEqual({
      tags: 4,
      blobs: 3,
      uniqueBytes: 117,
      referencedBytes: 127,
    });
  });

  it('updated by one repository out and in, equals the census counted afresh (modules that empty go)', () => {
    const updated = updateCensus(censusOf('0000000001', [a, b]), '0000000002', [b], [bNext]);
    const afresh = censusOf('0000000002', [a, bNext]);
    expect(updated).toEqual(afresh);
    expect([...updated.modules.keys()].sort()).toEqual(['containers-amd64', 'containers-arm64']);
    const without = updateCensus(censusOf('0000000001', [a, b]), '0000000002', [a, b], [bNext]);
    expect([...without.modules]).toEqual([['containers-amd64', ['amd64', 1]]]);
  });

  it("keeps each module's root: the architecture's directory, or '' for the one module at the tree", () => {
    expect([...censusOf('0000000001', [a, b]).modules]).toEqual([
      ['containers-amd64', ['amd64', 3]],
      ['containers-arm64', ['arm64', 3]],
    ]);
    const at = `stable/app/_blobs/sha256/${'4'.repeat(64)}`;
    const single: RepositoryMetadata = {
      ...repository('stable/app', {}),
      blobs: { [digest('4')]: { size: 5, path: at, modules: { containers: at } } },
    };
    expect([...censusOf('0000000001', [single]).modules]).toEqual([['containers', ['', 1]]]);
  });

  it('reads back what it wrote for that generation only; anything else is no census', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-census-'));
    try {
      const census = censusOf('0000000003', [a, b]);
      await writeCensus(dir, census);
      expect(await readCensus(dir, '0000000003')).toEqual(census);
      expect(await readCensus(dir, '0000000004')).toBeUndefined();
      await writeFile(
        path.join(dir, BLOB_CENSUS_FILE),
        '{"formatVersion":1,"generation":"0000000003","blobs":{"x":[1]}}',
      );
      expect(await readCensus(dir, '0000000003')).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
