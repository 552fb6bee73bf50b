import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../src/config/load.js';

/**
 * A parsed config selecting `stable/**`, storage under a fresh directory of `parent`, for runs
 * against a FakeSource (its `source:` is never opened: the test passes the source).
 */
export async function fakeSourceConfig(
  parent: string,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<Config> {
  const dir = await mkdtemp(path.join(parent, `${name}-`));
  const body = {
    version: 1,
    source: { type: 'oci-layout', path: 'unused-the-test-passes-its-source' },
    repositories: { include: ['stable/**'] },
    storage: { root: path.join(dir, 'mirror') },
    ...extra,
  };
  return parseConfig(stringify(body), path.join(dir, 'config.yaml'));
}
