// Issue 8: hostile input. Registry answers (rewritten or made up by the fault proxy) and config
// files are untrusted. Each case asserts a precise error (code, and a message naming the thing)
// or a documented acceptance, and that nothing is written outside the storage root: a canary
// directory next to it stays untouched and the tree holds only verified blobs.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { jsonOf, runCli } from '../helpers/cli.js';
import { type FaultRule } from '../helpers/fault-proxy.js';
import { fetchManifest } from '../helpers/push.js';
import { snapshot, treeProblems } from '../helpers/tree-check.js';
import { useTestWorld } from '../helpers/test-world.js';
import { HOSTILE_CASES, type HostileCase, type HostileWorld } from './hostile-cases.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('hostile registry answers and config', () => {
  const world = useTestWorld({
    name: 'hostile',
    proxySeed: 'hostile',
    spec: fixtureSpec({
      seed: 'hostile',
      repos: 1,
      tagsPerRepo: 1,
      baseBytes: 64 * 1024,
      repoBytes: 8 * 1024,
      tagBytes: 4 * 1024,
    }),
  });
  let hostileWorld: HostileWorld;
  const outcomes: Array<{ name: string; outcome: string }> = [];
  let workEntries: string[];

  beforeAll(async () => {
    const real = await fetchManifest(world.registry, 'stable/app-1', '1.0');
    expect(real.mediaType).toBe(OCI_MANIFEST);
    hostileWorld = { image: JSON.parse(real.bytes.toString('utf8')), imageBytes: real.bytes };
    await mkdir(path.join(world.work, 'cases'));
    workEntries = await readdir(world.work);
  });

  afterAll(async () => {
    console.log(`hostile outcomes: ${JSON.stringify(outcomes)}`);
    // Nothing climbed out of the per-case directories either.
    expect(await readdir(world.work)).toEqual(workEntries);
  });

  it('has at least 40 cases', () => expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(40));

  it.each(HOSTILE_CASES.map((c, i) => ({ ...c, index: i })))(
    '$index $name',
    async (hostile: HostileCase & { index: number }) => {
      const dir = path.join(world.work, 'cases', String(hostile.index));
      const canary = path.join(dir, 'canary');
      await mkdir(path.join(canary, 'etc'), { recursive: true });
      await writeFile(path.join(canary, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
      await writeFile(path.join(canary, 'README'), 'must stay untouched\n');
      const before = await snapshot(canary);
      const root = path.join(dir, 'mirror');
      const base = {
        version: 1,
        source: { type: 'registry', url: world.proxy.url, insecure: true, retries: 1, timeoutSeconds: 5 },
        repositories: { include: hostile.include ?? ['hostile/x'] },
        storage: { root },
      };
      const file = path.join(dir, 'config.yaml');
      const config = hostile.config ? hostile.config(base) : base;
      await writeFile(file, typeof config === 'string' ? config : stringify(config));
      world.proxy.setRules([...(hostile.rules?.(hostileWorld) ?? []), ...syntheticRepositoryBlobs()]);
      world.proxy.reset();

      const result = await runCli(['sync', '-c', file, '--json', '--log-format', 'json', ...(hostile.args ?? [])], {
        timeoutMs: 60_000,
      });
      const { expect: want } = hostile;
      expect(result.code, result.stderr).toBe(want.exit);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      if (want.exit === 0) {
        await want.check?.(jsonOf(result), world.proxy);
        outcomes.push({ name: hostile.name, outcome: 'accepted' });
      } else if (want.where === 'failure') {
        const failures = jsonOf(result).failures as Array<{ code: string; message: string }>;
        expect(failures.length).toBeGreaterThan(0);
        expect(
          failures.find((f) => f.code === want.code && want.message.test(f.message)),
          JSON.stringify(failures),
        ).toBeTruthy();
        outcomes.push({
          name: hostile.name,
          outcome: `${want.code}: ${failures.find((f) => f.code === want.code)!.message}`,
        });
      } else {
        const line = result.stderr.split('\n').find((l) => l.startsWith('blobmirror: error ')) ?? '';
        expect(line, result.stderr).toMatch(new RegExp(`^blobmirror: error ${want.code}: `));
        expect(line.replace(/^blobmirror: error \w+: /, '')).toMatch(want.message);
        outcomes.push({ name: hostile.name, outcome: line.replace(/^blobmirror: error /, '') });
      }

      // Nothing outside the storage root; the tree holds only verified blobs.
      expect(await snapshot(canary)).toEqual(before);
      expect((await readdir(dir)).sort()).toEqual(expect.arrayContaining(['canary', 'config.yaml']));
      expect((await readdir(dir)).filter((e) => !['canary', 'config.yaml', 'mirror'].includes(e))).toEqual([]);
      const top = await readdir(root).catch(() => [] as string[]);
      expect(top.filter((e) => !['tree', 'metadata', 'state'].includes(e))).toEqual([]);
      expect(await treeProblems(path.join(root, 'tree'))).toEqual([]);
    },
  );
});

/** Blobs of the synthetic repository are the real ones of stable/app-1. */
function syntheticRepositoryBlobs(): FaultRule[] {
  return [
    {
      path: /^\/v2\/hostile\/x\/blobs\//,
      fault: { kind: 'forward', path: (p) => p.replace('/v2/hostile/x/', '/v2/stable/app-1/') },
    },
  ];
}
