import { createHash } from 'node:crypto';
import { MANIFEST_TYPES } from '../../src/oci/media-types.js';

// What `docker pull` sees of repositories through serve: each tag list, and each tag's manifest
// (status, type, digest header and a hash of the exact bytes), to compare two answers byte for byte.

export async function servedRepositories(
  url: string,
  repositories: readonly string[],
): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  for (const repo of repositories) {
    const list = await fetch(`${url}/v2/${repo}/tags/list`);
    const body = await list.text();
    seen[`${repo} tags`] = { status: list.status, body };
    if (list.status !== 200) continue;
    for (const tag of (JSON.parse(body) as { tags: string[] }).tags) {
      const response = await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
        headers: { accept: MANIFEST_TYPES.join(', ') },
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      seen[`${repo}:${tag}`] = {
        status: response.status,
        type: response.headers.get('content-type'),
        digest: response.headers.get('docker-content-digest'),
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
    }
  }
  return seen;
}
