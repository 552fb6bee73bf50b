// The hostile-input corpus run by hostile-input.test.ts. A made-up repository `hostile/x` is
// answered by the fault proxy (tags list, manifests by tag and digest; blobs are borrowed from the
// real stable/app-1); the catalog cases select `**`; config cases write a hostile config.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { FaultProxy, FaultRule } from '../helpers/fault-proxy.js';

export interface HostileWorld {
  /** The real OCI image manifest of stable/app-1:1.0, parsed, and its bytes. */
  image: Record<string, any>;
  imageBytes: Buffer;
}

type Expectation =
  | { exit: 0; check?: (summary: any, proxy: FaultProxy) => void | Promise<void> }
  /** `failure`: in the --json summary's failures; `stderr`: the run's one error line. */
  | { exit: 1 | 2; where: 'failure' | 'stderr'; code: string; message: RegExp };

export interface HostileCase {
  name: string;
  include?: string[];
  args?: string[];
  /** The config to write (an object becomes YAML; a string is written as is). */
  config?: (base: Record<string, any>) => Record<string, any> | string;
  rules?: (world: HostileWorld) => FaultRule[];
  expect: Expectation;
}

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
const HEX = 'a'.repeat(64);
const FAKE = `sha256:${'f'.repeat(64)}`;
const NAME_RULE = /: expected lowercase components \[a-z0-9\] joined by "\/"/;
const TAG_RULE = /: expected \[A-Za-z0-9_\]\[A-Za-z0-9._-\]\{0,127\}$/;
const DIGEST_RULE = /expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>/;

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
export const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const jsonEscaped = (s: string) => escape(JSON.stringify(s));

interface Served {
  bytes: Buffer;
  contentType: string;
  /** Docker-Content-Digest (default: the bytes' sha256). */
  digest?: string;
  /** References it answers besides its digest. */
  refs?: string[];
}

const respond = (body: Buffer | string, headers: Record<string, string> = {}) => ({
  kind: 'respond' as const,
  headers: { 'content-type': 'application/json', ...headers },
  body,
});
const catalog = (body: Buffer | string, headers?: Record<string, string>): FaultRule => ({
  method: 'GET',
  path: /^\/v2\/_catalog/,
  fault: respond(body, headers),
});
const tagsList = (body: Buffer | string, headers?: Record<string, string>): FaultRule => ({
  method: 'GET',
  path: /^\/v2\/hostile\/x\/tags\/list/,
  fault: respond(body, headers),
});

function manifests(...served: Served[]): FaultRule[] {
  return served.flatMap((m) =>
    [sha256(m.bytes), ...(m.refs ?? [])].map((ref) => ({
      path: new RegExp(`^/v2/hostile/x/manifests/${escape(ref)}$`),
      fault: respond(m.bytes, { 'content-type': m.contentType, 'docker-content-digest': m.digest ?? sha256(m.bytes) }),
    })),
  );
}

/** hostile/x with the single tag 1.0 answered by `tag`, plus more manifests by digest. */
const repo = (tag: Served, ...more: Served[]): FaultRule[] => [
  tagsList(json({ name: 'hostile/x', tags: ['1.0'] })),
  ...manifests({ ...tag, refs: ['1.0'] }, ...more),
];
/** The real image, edited. */
const image = (world: HostileWorld, edit: (m: any) => void): Served => {
  const m = structuredClone(world.image);
  edit(m);
  return { bytes: json(m), contentType: OCI };
};
const indexOf = (children: Array<{ digest: string; size: number; mediaType?: string }>): Served => ({
  bytes: json({
    schemaVersion: 2,
    mediaType: INDEX,
    manifests: children.map((c) => ({
      mediaType: c.mediaType ?? OCI,
      ...c,
      platform: { os: 'linux', architecture: 'amd64' },
    })),
  }),
  contentType: INDEX,
});
const fails = (code: string, message: RegExp): Expectation => ({ exit: 1, where: 'failure', code, message });
const stops = (code: string, message: RegExp, exit: 1 | 2 = 1): Expectation => ({
  exit,
  where: 'stderr',
  code,
  message,
});

const catalogName = (name: string): HostileCase => ({
  name: `catalog entry ${JSON.stringify(name).slice(0, 40)}`,
  include: ['**'],
  rules: () => [catalog(json({ repositories: ['stable/app-1', name] }))],
  // Skipped and reported (exit 1); the valid entries still sync.
  expect: fails(
    'NAME_INVALID',
    new RegExp(
      `^invalid repository name in the catalog ${jsonEscaped(name.length > 80 ? `${name.slice(0, 80)}…` : name)}${NAME_RULE.source}`,
    ),
  ),
});
const badTag = (tag: string): HostileCase => ({
  name: `tag ${JSON.stringify(tag).slice(0, 40)}`,
  rules: () => [tagsList(json({ name: 'hostile/x', tags: ['1.0', tag] }))],
  expect: fails(
    'TAG_INVALID',
    new RegExp(
      `^invalid tag of hostile/x ${jsonEscaped(tag.length > 80 ? `${tag.slice(0, 80)}…` : tag)}${TAG_RULE.source}`,
    ),
  ),
});
const badLayerDigest = (digest: string, label: string): HostileCase => ({
  name: `layer digest ${label}`,
  rules: (w) => repo(image(w, (m) => (m.layers[0].digest = digest))),
  expect: fails(
    'MANIFEST_INVALID',
    new RegExp(`^invalid manifest hostile/x@sha256:[0-9a-f]{64}: layers\\.0\\.digest: ${DIGEST_RULE.source}`),
  ),
});
const badConfig = (
  label: string,
  edit: (base: Record<string, any>) => Record<string, any> | string,
  message: RegExp,
): HostileCase => ({
  name: `config: ${label}`,
  config: edit,
  expect: stops('CONFIG_INVALID', message, 2),
});
const schema1 = (label: string, signatures: unknown, message: RegExp): HostileCase => ({
  name: `schema1 with ${label}`,
  rules: (w) =>
    repo({
      bytes: json({
        schemaVersion: 1,
        name: 'hostile/x',
        tag: '1.0',
        architecture: 'amd64',
        fsLayers: [{ blobSum: w.image.layers[0].digest }],
        history: [],
        signatures,
      }),
      contentType: SCHEMA1,
    }),
  expect: fails('MANIFEST_INVALID', message),
});
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export const HOSTILE_CASES: HostileCase[] = [
  // Repository names in the catalog.
  catalogName('../../etc'),
  catalogName('stable/../../../etc'),
  catalogName('stable\\app'),
  catalogName('stable/a\u0000b'),
  catalogName('stable/\u001b[31mred'),
  catalogName('st\u0430ble/app-1'), // Cyrillic a
  catalogName(`stable/${'a'.repeat(300)}`),
  catalogName('/etc/passwd'),
  catalogName('stable/_blobs'),
  catalogName('Stable/App'),
  {
    name: 'catalog "repositories" is not a list',
    include: ['**'],
    rules: () => [catalog(json({ repositories: 'stable/app-1' }))],
    expect: stops('REGISTRY_ERROR', /^catalog: "repositories" is not a list$/),
  },
  {
    name: 'catalog entry that is not a string',
    include: ['**'],
    rules: () => [catalog(json({ repositories: [{ name: 'x' }] }))],
    expect: stops('REGISTRY_ERROR', /^catalog: "repositories" holds a non-string entry$/),
  },
  {
    name: 'catalog with 100001 entries',
    include: ['**'],
    rules: () => [catalog(json({ repositories: Array.from({ length: 100_001 }, (_, i) => `r/n${i}`) }))],
    expect: stops('TOO_LARGE', /^catalog: more than 100000 entries; refusing the listing$/),
  },
  {
    name: 'catalog Link header pointing to another host',
    include: ['**'],
    rules: () => [
      catalog(json({ repositories: ['stable/app-1'] }), {
        link: '<http://127.0.0.2:9/v2/_catalog?last=stable%2Fapp-1&n=1000>; rel="next"',
      }),
    ],
    // The listed repositories still sync; the run reports the listing it could not complete.
    expect: fails(
      'LISTING_INCOMPLETE',
      /^catalog from 127\.0\.0\.1:\d+ incomplete after 1 page\(s\) \(1 entries listed\): REGISTRY_ERROR: registry pagination Link points to another host \(http:\/\/127\.0\.0\.2:9\); refusing to follow it$/,
    ),
  },
  // Tags.
  badTag('../../etc/passwd'),
  badTag('a/b'),
  badTag('a\\b'),
  badTag('a\u0000b'),
  badTag('x\r\nSet-Cookie: a=b'),
  badTag('l\u0430test'),
  badTag('t'.repeat(129)),
  badTag('.hidden'),
  badTag('-rf'),
  {
    // At the highest tags.maxPerRepository, the client's own bound on any listing answers.
    name: 'tags list with 100001 entries',
    config: (base) => ({ ...base, tags: { maxPerRepository: 100_000 } }),
    rules: () => [tagsList(json({ name: 'hostile/x', tags: Array.from({ length: 100_001 }, (_, i) => `t${i}`) }))],
    expect: fails('TOO_LARGE', /^tags of hostile\/x: more than 100000 entries; refusing the listing$/),
  },
  {
    name: 'tags list with 10001 entries: over the default tags.maxPerRepository while it is read',
    rules: () => [tagsList(json({ name: 'hostile/x', tags: Array.from({ length: 10_001 }, (_, i) => `t${i}`) }))],
    expect: fails(
      'TOO_LARGE',
      /^hostile\/x: more tags selected than tags.maxPerRepository \(10000\); narrow tags.include\/exclude\/keepNewest or raise the limit \(its published tags are kept\)$/,
    ),
  },
  {
    name: 'tags list with one tag 100000 times: one tag, one HEAD',
    rules: (w) => [
      tagsList(json({ name: 'hostile/x', tags: Array.from({ length: 100_000 }, () => '1.0') })),
      ...repo({ bytes: w.imageBytes, contentType: OCI }).slice(1),
    ],
    expect: {
      exit: 0,
      check: (summary, proxy) => (
        expect(summary.tags.total).toBe(1),
        expect(proxy.requests.filter((r) => r.method === 'HEAD')).toHaveLength(1)
      ),
    },
  },
  {
    name: 'tags Link header pointing to another host',
    rules: () => [
      tagsList(json({ name: 'hostile/x', tags: ['1.0'] }), {
        link: '<http://evil.example:8080/v2/hostile/x/tags/list?last=1.0>; rel="next"',
      }),
    ],
    expect: fails(
      'LISTING_INCOMPLETE',
      /^tags of hostile\/x from 127\.0\.0\.1:\d+ incomplete after 1 page\(s\) \(1 entries listed\): REGISTRY_ERROR: registry pagination Link points to another host \(http:\/\/evil\.example:8080\); refusing to follow it$/,
    ),
  },
  {
    name: 'tags Link header repeating the same page forever: stops',
    rules: (w) => [
      tagsList(json({ name: 'hostile/x', tags: ['1.0'] }), { link: '</v2/hostile/x/tags/list?n=1000>; rel="next"' }),
      ...repo({ bytes: w.imageBytes, contentType: OCI }).slice(1),
    ],
    expect: {
      exit: 0,
      check: (_summary, proxy) => expect(proxy.requests.filter((r) => r.path.includes('/tags/list'))).toHaveLength(2),
    },
  },
  {
    name: 'tags "tags" is not a list',
    rules: () => [tagsList(json({ name: 'hostile/x', tags: { a: 1 } }))],
    expect: fails('REGISTRY_ERROR', /^tags of hostile\/x: "tags" is not a list$/),
  },
  // Digests.
  {
    name: 'Docker-Content-Digest sha256:../../etc/passwd',
    rules: (w) => repo({ bytes: w.imageBytes, contentType: OCI, digest: 'sha256:../../etc/passwd' }),
    expect: fails(
      'DIGEST_MISMATCH',
      /^manifest hostile\/x:1\.0: bytes hash to sha256:[0-9a-f]{64}, but Docker-Content-Digest says sha256:\.\.\/\.\.\/etc\/passwd$/,
    ),
  },
  {
    name: 'Docker-Content-Digest in uppercase hex',
    rules: (w) =>
      repo({
        bytes: w.imageBytes,
        contentType: OCI,
        digest: sha256(w.imageBytes).toUpperCase().replace('SHA256', 'sha256'),
      }),
    expect: fails(
      'DIGEST_MISMATCH',
      /^manifest hostile\/x:1\.0: bytes hash to sha256:[0-9a-f]{64}, but Docker-Content-Digest says sha256:[0-9A-F]{64}$/,
    ),
  },
  badLayerDigest('sha256:../../etc/passwd', 'sha256:../../etc/passwd'),
  badLayerDigest('sha256:abc', 'of the wrong length'),
  badLayerDigest(`sha256:${HEX.toUpperCase()}`, 'in uppercase hex'),
  badLayerDigest(`md5:${'a'.repeat(32)}`, 'with an unknown algorithm'),
  badLayerDigest(`sha256:${HEX}/../../x`, 'with a path after the hex'),
  {
    name: 'index child digest sha256:../x',
    rules: () => repo(indexOf([{ digest: 'sha256:../x', size: 10 }])),
    expect: fails('MANIFEST_INVALID', new RegExp(`: manifests\\.0\\.digest: ${DIGEST_RULE.source}`)),
  },
  // Manifests.
  {
    name: 'manifest that is not JSON',
    rules: () => repo({ bytes: Buffer.from('{"schemaVersion": 2, '), contentType: OCI }),
    expect: fails('MANIFEST_INVALID', /^invalid manifest hostile\/x@sha256:[0-9a-f]{64}: not valid JSON$/),
  },
  {
    name: 'manifest that is a JSON array',
    rules: () => repo({ bytes: json([1, 2]), contentType: OCI }),
    expect: fails('MANIFEST_INVALID', /: not a JSON object$/),
  },
  {
    name: 'manifest over the default 4 MiB limit',
    rules: (w) => repo(image(w, (m) => (m.annotations = { pad: 'x'.repeat(4 * 1024 * 1024) }))),
    expect: fails(
      'TOO_LARGE',
      /^manifest hostile\/x@sha256:[0-9a-f]{64}: response body is over the 4194304-byte limit$/,
    ),
  },
  {
    name: 'manifest over metadata.maxManifestBytes: 1024',
    config: (base) => ({ ...base, metadata: { maxManifestBytes: 1024 } }),
    rules: (w) => repo(image(w, (m) => (m.annotations = { pad: 'x'.repeat(1500) }))),
    expect: fails('TOO_LARGE', /^manifest hostile\/x@sha256:[0-9a-f]{64}: response body is over the 1024-byte limit$/),
  },
  {
    name: 'manifest nested 100000 arrays deep',
    rules: () => repo({ bytes: Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), contentType: OCI }),
    expect: fails('MANIFEST_INVALID', /: not a JSON object$/),
  },
  {
    name: 'manifest with 100000-deep nesting under an unknown key: parsed, stored byte for byte',
    rules: (w) =>
      repo({
        bytes: Buffer.from(
          w.imageBytes.toString('utf8').replace(/}\s*$/, `,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
        ),
        contentType: OCI,
      }),
    expect: { exit: 0, check: (summary) => expect(summary.tags.total).toBe(1) },
  },
  {
    name: 'layer with a negative size',
    rules: (w) => repo(image(w, (m) => (m.layers[0].size = -1))),
    expect: fails('MANIFEST_INVALID', /: layers\.0\.size: size must not be negative$/),
  },
  {
    name: 'layer with a fractional size',
    rules: (w) => repo(image(w, (m) => (m.layers[0].size = 1.5))),
    expect: fails('MANIFEST_INVALID', /: layers\.0\.size: expected an integer size$/),
  },
  {
    name: 'layer size lying low',
    rules: (w) => repo(image(w, (m) => (m.layers[0].size = 10))),
    expect: fails(
      'SIZE_MISMATCH',
      /^blob sha256:[0-9a-f]{64} of hostile\/x: more bytes than the descriptor's size 10$/,
    ),
  },
  {
    name: 'layer size lying high',
    rules: (w) => repo(image(w, (m) => (m.layers[0].size += 100))),
    expect: fails(
      'SIZE_MISMATCH',
      /^blob sha256:[0-9a-f]{64} of hostile\/x: the registry has no bytes past \d+ \(416 to a Range request\); the descriptor promised more$/,
    ),
  },
  {
    name: 'duplicate layers: one blob, fetched once',
    rules: (w) => repo(image(w, (m) => (m.layers = [m.layers[0], m.layers[0], m.layers[0]]))),
    expect: {
      exit: 0,
      check: (_summary, proxy) => expect(proxy.requests.filter((r) => r.path.includes('/blobs/'))).toHaveLength(2),
    },
  },
  {
    name: 'layer urls pointing at file:///etc/passwd are never followed',
    rules: (w) => repo(image(w, (m) => (m.layers[0].urls = ['file:///etc/passwd', 'http://127.0.0.2:9/x']))),
    expect: { exit: 0 },
  },
  {
    name: 'index that references itself (by a digest it cannot have)',
    rules: () => {
      const self = indexOf([{ digest: FAKE, size: 200, mediaType: INDEX }]);
      return repo(self, { ...self, refs: [FAKE] });
    },
    expect: fails(
      'DIGEST_MISMATCH',
      new RegExp(`^manifest hostile/x@${FAKE}: bytes hash to sha256:[0-9a-f]{64}, but the reference says ${FAKE}$`),
    ),
  },
  {
    name: 'index loop A -> B -> A',
    rules: () => {
      const b = indexOf([{ digest: FAKE, size: 300, mediaType: INDEX }]);
      const a = indexOf([{ digest: sha256(b.bytes), size: b.bytes.length, mediaType: INDEX }]);
      return repo(a, b, { ...a, refs: [FAKE] });
    },
    expect: fails(
      'DIGEST_MISMATCH',
      new RegExp(`^manifest hostile/x@${FAKE}: bytes hash to sha256:[0-9a-f]{64}, but the reference says ${FAKE}$`),
    ),
  },
  {
    name: 'indexes nested 6 deep',
    rules: (w) => {
      const chain: Served[] = [];
      let child: Served = { bytes: w.imageBytes, contentType: OCI };
      for (let i = 0; i < 6; i++) {
        child = indexOf([{ digest: sha256(child.bytes), size: child.bytes.length, mediaType: child.contentType }]);
        chain.push(child);
      }
      return repo(chain.pop()!, ...chain, { bytes: w.imageBytes, contentType: OCI });
    },
    expect: fails('MANIFEST_INVALID', /^manifest hostile\/x@sha256:[0-9a-f]{64}: indexes nested deeper than 4$/),
  },
  {
    name: 'index entry size lying about its child',
    rules: (w) => repo(indexOf([{ digest: sha256(w.imageBytes), size: 7 }]), { bytes: w.imageBytes, contentType: OCI }),
    expect: fails('SIZE_MISMATCH', /^manifest hostile\/x@sha256:[0-9a-f]{64}: \d+ bytes, but its index entry says 7$/),
  },
  {
    name: 'unknown manifest media type',
    rules: (w) =>
      repo({
        ...image(w, (m) => (m.mediaType = 'application/vnd.evil+json')),
        contentType: 'application/vnd.evil+json',
      }),
    expect: fails(
      'MEDIA_TYPE_UNSUPPORTED',
      /^unsupported manifest media type "application\/vnd\.evil\+json" for hostile\/x:1\.0$/,
    ),
  },
  {
    name: 'body mediaType differing from Content-Type',
    rules: (w) => repo(image(w, (m) => (m.mediaType = 'application/vnd.docker.distribution.manifest.v2+json'))),
    expect: fails(
      'MANIFEST_INVALID',
      /: body mediaType "application\/vnd\.docker\.distribution\.manifest\.v2\+json" differs from Content-Type "application\/vnd\.oci\.image\.manifest\.v1\+json"$/,
    ),
  },
  {
    name: 'layer mediaType with markup',
    rules: (w) => repo(image(w, (m) => (m.layers[0].mediaType = 'text/html; <script>'))),
    expect: fails('MANIFEST_INVALID', /: layers\.0\.mediaType: expected a media type/),
  },
  {
    name: 'schemaVersion 3',
    rules: (w) => repo(image(w, (m) => (m.schemaVersion = 3))),
    expect: fails('MANIFEST_INVALID', /: schemaVersion: /),
  },
  {
    name: 'index platform with a 100-character os',
    rules: (w) =>
      repo({
        ...indexOf([{ digest: sha256(w.imageBytes), size: w.imageBytes.length }]),
        bytes: json({
          schemaVersion: 2,
          mediaType: INDEX,
          manifests: [
            {
              mediaType: OCI,
              digest: sha256(w.imageBytes),
              size: w.imageBytes.length,
              platform: { os: 'l'.repeat(100), architecture: 'amd64' },
            },
          ],
        }),
      }),
    expect: fails('MANIFEST_INVALID', /: manifests\.0\.platform\.os: /),
  },
  schema1(
    'a protected header that is not base64url JSON',
    [{ protected: '!!!not base64!!!', signature: 'x' }],
    /^invalid manifest hostile\/x@sha256:[0-9a-f]{64}: signature protected header is not base64url JSON$/,
  ),
  schema1(
    'no signatures',
    undefined,
    /^invalid manifest hostile\/x@sha256:[0-9a-f]{64}: signed schema1 without signatures\[0\]\.protected$/,
  ),
  schema1(
    'a formatLength beyond the body',
    [{ protected: base64url({ formatLength: 1e9, formatTail: 'fQ' }), signature: 'x' }],
    /: signature protected header has no valid formatLength\/formatTail$/,
  ),
  // Config files and command lines.
  badConfig(
    'include ../etc',
    (b) => ({ ...b, repositories: { include: ['../etc'] } }),
    /"\.\.\/etc" is not a repository name or glob/,
  ),
  badConfig(
    'include stable/../../etc',
    (b) => ({ ...b, repositories: { include: ['stable/../../etc'] } }),
    /"stable\/\.\.\/\.\.\/etc" is not a repository name or glob/,
  ),
  badConfig(
    'include with a backslash',
    (b) => ({ ...b, repositories: { include: ['stable\\app'] } }),
    /is not a repository name or glob/,
  ),
  badConfig(
    'include with NUL',
    (b) => ({ ...b, repositories: { include: ['stable/a\u0000b'] } }),
    /is not a repository name or glob/,
  ),
  badConfig(
    'tags.include that is not a regex',
    (b) => ({ ...b, tags: { include: ['('] } }),
    /tags\.include\.0.*not a valid regular expression/,
  ),
  badConfig(
    'source url with a path',
    (b) => ({ ...b, source: { ...b.source, url: 'http://127.0.0.1:9/v2/../../x' } }),
    /source\.url.*expected http\(s\):\/\/host\[:port\] with no path/,
  ),
  badConfig(
    'source url file:///etc/passwd',
    (b) => ({ ...b, source: { ...b.source, url: 'file:///etc/passwd' } }),
    /source\.url/,
  ),
  badConfig(
    'metadata.maxManifestBytes below 1 KiB',
    (b) => ({ ...b, metadata: { maxManifestBytes: 10 } }),
    /metadata\.maxManifestBytes/,
  ),
  badConfig('an unknown key', (b) => ({ ...b, storage: { ...b.storage, tree2: '/etc' } }), /tree2/),
  badConfig(
    'a YAML alias bomb',
    (b) =>
      `${JSON.stringify(b)}\n`.replace(
        /^\{/,
        '{"bomb": [&a ["x","x","x","x","x","x","x","x","x","x"], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]], ',
      ),
    /alias|resource exhaustion/i,
  ),
  {
    name: '--repo ../../etc',
    include: ['**'],
    args: ['--repo', '../../etc'],
    expect: stops('USAGE', /^repository "\.\.\/\.\.\/etc" /, 2),
  },
  {
    name: '--repo stable/app-1/../../../../x',
    include: ['**'],
    args: ['--repo', 'stable/app-1/../../../../x'],
    expect: stops('USAGE', /^repository "stable\/app-1\/\.\.\/\.\.\/\.\.\/\.\.\/x" /, 2),
  },
];
