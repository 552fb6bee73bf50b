import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetadataReader } from '../../../src/serve/metadata-reader.js';
import { MetadataFixture, type Described } from '../../helpers/metadata-fixture.js';

describe('metadata reader', () => {
  let dir: string;
  let fixture: MetadataFixture;
  let image: Described;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-reader-'));
    fixture = new MetadataFixture(dir);
    image = fixture.image('demo/app', 'one');
    fixture.tag('demo/app', '1', image.digest);
    await fixture.publish('0000000001');
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps a request on the generation it resolved while current moves on', async () => {
    const reader = new MetadataReader(dir, { recheckMs: 0 });
    const first = await reader.current();
    fixture.tag('demo/app', '2', image.digest);
    fixture.tag('new/repo', '1', fixture.image('new/repo', 'x').digest);
    await fixture.publish('0000000002');
    const second = await reader.current();
    expect([first.id, second.id]).toEqual(['0000000001', '0000000002']);
    expect([...(await first.repository('demo/app'))!.tags.keys()]).toEqual(['1']);
    expect(first.hasRepository('new/repo')).toBe(false);
    expect([...(await second.repository('demo/app'))!.tags.keys()]).toEqual(['1', '2']);
  });

  it('re-reads current at most every recheckMs', async () => {
    let now = 0;
    const reader = new MetadataReader(dir, { recheckMs: 1000, now: () => now });
    expect((await reader.current()).id).toBe('0000000001');
    await fixture.publish('0000000002');
    now = 999;
    expect((await reader.current()).id).toBe('0000000001');
    now = 1000;
    expect((await reader.current()).id).toBe('0000000002');
  });

  it('refuses to start without a published generation, or with current pointing elsewhere', async () => {
    await unlink(path.join(dir, 'current'));
    await expect(new MetadataReader(dir).current()).rejects.toThrow(/no published generation/);
    await symlink('/etc', path.join(dir, 'current'));
    await expect(new MetadataReader(dir).current()).rejects.toThrow(/expected generations\/<id>/);
  });

  it('checks manifest bytes against size and digest, and follows no symlink', async () => {
    const reader = new MetadataReader(dir, { recheckMs: 0 });
    const entry = (await (await reader.current()).repository('demo/app'))!.manifests.get(image.digest)!;
    const file = path.join(dir, entry.path);
    const bytes = await readFile(file);
    await writeFile(file, Buffer.from(bytes.toString().replace('config', 'CONFIG')));
    await expect(new MetadataReader(dir).manifestBytes(entry)).rejects.toThrow(/does not hash to/);
    await unlink(file);
    await writeFile(path.join(dir, 'elsewhere'), bytes);
    await symlink(path.join(dir, 'elsewhere'), file);
    await expect(new MetadataReader(dir).manifestBytes(entry)).rejects.toThrow(/cannot read manifest .*symbolic links/);
  });

  it('reads a format-1 generation (a tree published before the upgrade) and then format 2', async () => {
    await fixture.publish('0000000001', { format: 1 });
    const reader = new MetadataReader(dir, { recheckMs: 0 });
    const old = await reader.current();
    fixture.tag('demo/app', '2', image.digest);
    await fixture.publish('0000000002');
    const upgraded = await reader.current();
    expect([...(await old.repository('demo/app'))!.tags.keys()]).toEqual(['1']);
    expect([...(await upgraded.repository('demo/app'))!.tags.keys()]).toEqual(['1', '2']);
  });

  it('a repository whose file did not change between generations is read and parsed once', async () => {
    const reader = new MetadataReader(dir, { recheckMs: 0 });
    const first = await reader.current();
    const unchanged = await first.repository('demo/app')!;
    fixture.tag('new/repo', '1', fixture.image('new/repo', 'x').digest);
    await fixture.publish('0000000002');
    const second = await reader.current();
    expect(second.id).toBe('0000000002');
    expect(await second.repository('demo/app')!).toBe(unchanged);
    // The status page's history loads the older generation: it shares the current one's files.
    const [older] = await reader.keptGenerations();
    expect(await older!.repository('demo/app')!).toBe(unchanged);
  });

  it('refuses a format-2 repository file whose bytes do not hash to the digest the index names', async () => {
    const index = JSON.parse(await readFile(path.join(dir, 'current', 'index.json'), 'utf8'));
    const file = path.join(dir, index.repositories['demo/app'].path);
    await writeFile(file, (await readFile(file, 'utf8')).replace('"1"', '"9"'));
    const generation = await new MetadataReader(dir).current();
    await expect(generation.repository('demo/app')!).rejects.toThrow(/does not hash to sha256:/);
  });

  it('refuses a format-2 index naming a repository file by another path than its digest', async () => {
    const indexFile = path.join(dir, 'generations', '0000000001', 'index.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8'));
    index.repositories['demo/app'].path = 'repositories/../generations/0000000001/index.json';
    await writeFile(indexFile, JSON.stringify(index));
    await expect(new MetadataReader(dir).current()).rejects.toThrow(/repositories\.demo\/app\.path: expected the path/);
  });

  it('rejects metadata paths that would leave their directory', async () => {
    await fixture.publish('0000000001', { format: 1 });
    const repoFile = path.join(dir, 'generations', '0000000001', 'repositories', 'demo', 'app', '_repository.json');
    const json = JSON.parse(await readFile(repoFile, 'utf8'));
    json.manifests[image.digest].path = 'manifests/../../../../etc/passwd';
    await writeFile(repoFile, JSON.stringify(json));
    const generation = await new MetadataReader(dir).current();
    await expect(generation.repository('demo/app')!).rejects.toThrow(/without "\.\." segments/);
  });
});
