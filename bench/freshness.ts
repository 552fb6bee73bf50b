// `npm run bench:freshness [-- --repositories N --mirrors N --seconds N]`: what mirror checking
// costs and what freshness routing costs serve (issue 15; docs/benchmarks.md, "Mirror freshness").
//
// A tree of about 10,000 blobs (480 repositories x 10 tags, synced from an OCI layout), rsynced
// once to a mirror directory that nginx serves under N mirror URLs (symlinks, default 100), so
// every "mirror" answers from the same bytes. Measured:
// - the first check of one mirror: one file-list GET, then a HEAD per file it carries;
// - a steady round after one generation changed (one new tag, rsynced): N mirrors known to be
//   verified at the previous generation. The checker state for those N mirrors is seeded from
//   the one mirror's first check (the same directory behind every URL): the bench's setup, so
//   the round measured is the steady one an operator's checker runs every interval;
// - serve's manifest and blob-redirect rates with freshness routing on (N mirrors, state file)
//   and off (the same list without `check:`), as in `npm run bench`.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { generateImages } from '../src/demo/image-generator.js';
import { writeMirrorList } from '../test/helpers/mirrors-file.js';
import { runCli } from '../test/helpers/cli.js';
import { fixtureSpec } from '../test/helpers/fixture-spec.js';
import { startNginx } from '../test/helpers/nginx.js';
import { measureServe } from '../test/helpers/serve-load.js';
import { startServe } from '../test/helpers/serve-process.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    repositories: { type: 'string', default: '480' },
    mirrors: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '5' },
  },
});
const repositories = Number(values.repositories);
const mirrorCount = Number(values.mirrors);
const seconds = Number(values.seconds);
const MIRROR_STATE = 'mirror-state.json';

const spec = (extraTag: boolean) => {
  const s = fixtureSpec({ repos: repositories, tagsPerRepo: 10, baseBytes: 4096, repoBytes: 512, tagBytes: 256 });
  if (extraTag) s.repositories[0]!.tags.push({ tag: '2.0', unique: [256] });
  return s;
};

async function cli(args: string[]): Promise<{ stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const result = await runCli(args, { timeoutMs: 1_800_000 });
  if (result.code !== 0 && !(args[0] === 'crawl' && result.code === 1))
    throw new Error(`blobmirror ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(-2000)}`);
  return { stdout: result.stdout, stderr: result.stderr, ms: performance.now() - started };
}

/** The checker's own count of a round's requests, from its JSON log line. */
function roundRequests(stderr: string): number {
  for (const line of stderr.split('\n').reverse()) {
    const parsed = line.startsWith('{') ? (JSON.parse(line) as { requests?: number }) : {};
    if (typeof parsed.requests === 'number') return parsed.requests;
  }
  throw new Error(`crawl logged no round: ${stderr.slice(-1000)}`);
}

const work = await mkdtemp(path.join(tmpdir(), 'blobmirror-bench-freshness-'));
const rows: string[] = [];
const add = (what: string, value: string) => rows.push(`| ${what} | ${value} |`);
try {
  const root = path.join(work, 'master');
  const writeConfig = async (layout: string) => {
    const file = path.join(work, 'config.yaml');
    await writeFile(
      file,
      `version: 1\nsource: {type: oci-layout, path: ${JSON.stringify(layout)}}\nrepositories: {include: ["stable/**"]}\nstorage: {root: ${JSON.stringify(root)}}\n`,
    );
    return file;
  };
  const first = await generateImages(spec(false), path.join(work, 'layout-1'));
  await cli(['sync', '-c', await writeConfig(first.dir), '--json']);
  const metadata = path.join(root, 'metadata');
  const docroot = path.join(work, 'www');
  const copy = path.join(docroot, 'tree');
  await mkdir(copy, { recursive: true });
  const rsync = () => run('rsync', ['-aH', '--delete', `${path.join(root, 'tree')}/`, `${copy}/`]);
  await rsync();
  for (let m = 1; m <= mirrorCount; m++) await symlink('tree', path.join(docroot, `m${m}`));
  const nginx = await startNginx(docroot);
  const mirrorList = (name: string, count: number, check: boolean) =>
    writeMirrorList(
      work,
      {
        master: `${nginx.url}/tree`,
        mirrors: Array.from({ length: count }, (_, m) => ({ url: `${nginx.url}/m${m + 1}` })),
        ...(check ? { check: { intervalSeconds: 300 } } : {}),
      },
      name,
    );
  const crawl = async (list: string) => {
    const before = (await nginx.requests()).length;
    const round = await cli(['crawl', '--metadata', metadata, '--mirrors', list, '--once', '--log-format', 'json']);
    return { ms: round.ms, requests: roundRequests(round.stderr), nginx: (await nginx.requests()).length - before };
  };
  try {
    const blobs = first.blobs.length;
    const one = await crawl(await mirrorList('one.yaml', 1, true));
    add(
      `first check of one mirror (${blobs} blobs in the tree)`,
      `${one.requests} requests, ${(one.ms / 1000).toFixed(2)} s`,
    );

    // Seed: every URL is the same directory, so each mirror is where mirror 1 was verified.
    const statePath = path.join(metadata, MIRROR_STATE);
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { mirrors: Record<string, unknown> };
    const verified = state.mirrors[`${nginx.url}/m1`];
    for (let m = 2; m <= mirrorCount; m++) state.mirrors[`${nginx.url}/m${m}`] = verified;
    await writeFile(statePath, JSON.stringify(state));

    const second = await generateImages(spec(true), path.join(work, 'layout-2'));
    await cli(['sync', '-c', await writeConfig(second.dir), '--json']);
    await rsync();
    const list = await mirrorList('mirrors.yaml', mirrorCount, true);
    const steady = await crawl(list);
    add(
      `check round of ${mirrorCount} mirrors, one generation changed (one new tag)`,
      `${steady.requests} requests (${(steady.requests / mirrorCount).toFixed(1)} per mirror), ${(steady.ms / 1000).toFixed(2)} s with process start`,
    );
    const unchanged = await crawl(list);
    add(
      `check round of ${mirrorCount} mirrors, nothing changed`,
      `${unchanged.requests} requests, ${(unchanged.ms / 1000).toFixed(2)} s`,
    );

    const tagged = JSON.parse(await readFile(path.join(second.dir, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
    };
    const newTag = tagged.manifests.find(
      (m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'stable/app-1:2.0',
    );
    if (!newTag) throw new Error('the new tag is not in the layout');
    const manifest = JSON.parse(
      await readFile(path.join(second.dir, 'blobs', 'sha256', newTag.digest.slice(7)), 'utf8'),
    ) as {
      layers: Array<{ digest: string }>;
    };
    const manifestPath = '/v2/stable/app-1/manifests/2.0';
    const blobPath = `/v2/stable/app-1/blobs/${manifest.layers.at(-1)!.digest}`;
    for (const [label, file] of [
      ['freshness routing on', list],
      ['freshness routing off', await mirrorList('plain.yaml', mirrorCount, false)],
    ] as const) {
      const serve = await startServe(['--metadata', metadata, '--mirrors', file]);
      try {
        const rate = async (url: string, status: 200 | 307) => {
          // A second of warm-up first: the JIT, the metadata cache, the state file read.
          await measureServe(url, status, { connections: 32, seconds: 1 });
          const result = await measureServe(url, status, { connections: 32, seconds });
          if (result.unexpected) throw new Error(`${url}: ${result.unexpected} unexpected answers`);
          return Math.round(result.requestsPerSecond).toLocaleString('en-US');
        };
        add(
          `serve manifest GETs, ${label} (${mirrorCount} mirrors)`,
          `${await rate(`${serve.url}${manifestPath}`, 200)}/s`,
        );
        add(`serve blob redirects, ${label}`, `${await rate(`${serve.url}${blobPath}`, 307)}/s`);
      } finally {
        await serve.stop();
      }
    }
  } finally {
    await nginx.stop();
  }
  process.stdout.write(`| measure | value |\n|---|---|\n${rows.join('\n')}\n`);
} finally {
  await rm(work, { recursive: true, force: true });
}
