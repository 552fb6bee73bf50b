// `npm run bench:status-page [-- --repositories N --requests N]`: how long serve takes to answer
// each status page for a generation of N repositories (default 1,000; 5 tags each, two of them
// an index over two platforms), in-process over HTTP on 127.0.0.1. The first request of a page
// after a generation is published reads every _repository.json once (cold); later ones are
// answered from the cache the registry API shares (warm). See docs/benchmarks.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseMirrorConfig } from '../src/mirror-list/mirror-config.js';
import { startServer } from '../src/serve/server.js';
import { MetadataFixture } from '../test/helpers/metadata-fixture.js';

const { values } = parseArgs({
  options: { repositories: { type: 'string', default: '1000' }, requests: { type: 'string', default: '50' } },
});
const repositories = Number(values.repositories);
const requests = Number(values.requests);

async function timed(url: string): Promise<number> {
  const started = process.hrtime.bigint();
  const response = await fetch(url);
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const work = await mkdtemp(path.join(tmpdir(), 'blobmirror-bench-status-'));
try {
  const fixture = new MetadataFixture(path.join(work, 'metadata'));
  for (let r = 0; r < repositories; r++) {
    const repo = `org-${r % 20}/app-${r}`;
    for (let t = 0; t < 3; t++) fixture.tag(repo, `1.${t}`, fixture.image(repo, `${repo} ${t}`, { layers: 3 }).digest);
    const children = (['amd64', 'arm64'] as const).map((architecture) => ({
      ...fixture.image(repo, `${repo} multi ${architecture}`, { platform: { os: 'linux', architecture } }),
      platform: { os: 'linux', architecture },
    }));
    const index = fixture.index(repo, children);
    fixture.tag(repo, '2.0', index.digest);
    fixture.tag(repo, 'latest', index.digest);
  }
  await fixture.publish('0000000001');
  const mirrors = parseMirrorConfig(
    [
      'version: 1',
      'master: https://dl.example.org/pub',
      'mirrors:',
      ...Array.from({ length: 20 }, (_, i) => `  - url: https://m${i}.example.net/pub`),
    ].join('\n'),
    'mirrors.yaml',
  );
  const server = await startServer({
    metadataDir: path.join(work, 'metadata'),
    mirrors,
    mode: 'redirect',
    host: '127.0.0.1',
    port: 0,
    log: pino({ level: 'silent' }),
    statusPage: {},
  });
  const pages = [
    '/',
    '/repositories',
    '/repositories?q=app-99',
    '/repositories/org-7/app-507',
    '/mirrors',
    '/history',
    '/api/repositories',
  ];
  const rows: string[] = [];
  for (const page of pages) {
    const cold = await timed(`${server.url}${page}`);
    const warm: number[] = [];
    for (let i = 0; i < requests; i++) warm.push(await timed(`${server.url}${page}`));
    warm.sort((a, b) => a - b);
    const at = (q: number) => warm[Math.min(warm.length - 1, Math.floor(q * warm.length))]!.toFixed(1);
    rows.push(`| \`${page}\` | ${cold.toFixed(0)} | ${at(0.5)} | ${at(0.95)} |`);
  }
  await server.close();
  process.stdout.write(
    `${repositories} repositories, ${requests} warm requests per page\n\n| page | first request, ms | warm p50, ms | warm p95, ms |\n|---|---:|---:|---:|\n${rows.join('\n')}\n`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
